"""One patient's stream with every care event (built as stored envelopes, worked by hand
from SPEC 6): a primary therapist, a plan reviewed once then left overdue, a second goal
untouched, a referral closed and one still open, and weeks with and without an individual
session with the primary therapist."""

from __future__ import annotations

from datetime import UTC, date, datetime

from journey.events import EventEnvelope, TreatmentPlanCreated
from tests.unit.builders import StreamBuilder, utc

PID = "p-care"
AS_OF = datetime(2026, 2, 2, 19, tzinfo=UTC)  # Monday 2026-02-02 12:00 in Phoenix


def care_stream() -> list[EventEnvelope]:
    b = StreamBuilder(PID, timezone="America/Phoenix")
    b.admit(utc("2026-01-05T15:00"), level="iop")  # Monday 08:00 local
    b.assign("dr-a", utc("2026-01-05T16:00"))
    plan = TreatmentPlanCreated.model_validate({
        "plan_id": "plan-1",
        "goals": [
            {"goal_id": "g-1", "dimension": "relapse_potential", "description": "Stay abstinent",
             "objectives": [
                 {"objective_id": "o-1", "target_date": date(2026, 1, 31),
                  "description": "Attend every group"},
                 {"objective_id": "o-2", "target_date": date(2026, 2, 28)}]},
            {"goal_id": "g-2", "dimension": "recovery_environment",
             "objectives": [{"objective_id": "o-3", "target_date": date(2026, 3, 31)}]},
        ],
    })  # fmt: skip
    b._add(plan, utc("2026-01-06T17:00"), None)
    # week 2026-W02: individual with dr-a on Wednesday; W03: only with dr-b; W04: none
    b.session(utc("2026-01-07T16:00"), 60, session_id="i-1", format="individual",
              clinician_id="dr-a")  # fmt: skip
    b.review("plan-1", utc("2026-01-12T17:00"), {"o-1": "met", "o-2": "in_progress"})
    b.session(utc("2026-01-14T16:00"), 60, session_id="i-2", format="individual",
              clinician_id="dr-b")  # fmt: skip
    b.refer("ref-1", utc("2026-01-13T17:00"), specialty="trauma")
    b.close_referral("ref-1", utc("2026-01-20T17:00"), outcome="completed")
    b.refer("ref-2", utc("2026-01-27T17:00"), specialty="psychiatry")
    return b.events
