"""SPEC section 6 on hand-built journeys: primary therapist, treatment plan, plan_overdue,
referrals, as_of_in_future. Expected figures are worked out from the SPEC text."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from projections.journey import project_journey
from tests.unit.builders import StreamBuilder, utc
from tests.unit.test_projection_examples import view

NY = "America/New_York"

# --- primary therapist -------------------------------------------------------------------


def test_primary_therapist_is_the_latest_assignment_as_of_t() -> None:
    b = StreamBuilder().admit(utc("2026-01-01T10:00"))
    assert view(b, "2026-01-02T00:00").primary_therapist is None
    b.assign("dr-a", utc("2026-01-02T09:00")).assign("dr-b", utc("2026-01-09T09:00"))
    assert view(b, "2026-01-02T08:59").primary_therapist is None
    assert view(b, "2026-01-02T09:00").primary_therapist == "dr-a"
    assert view(b, "2026-01-09T08:59").primary_therapist == "dr-a"
    assert view(b, "2026-01-09T09:00").primary_therapist == "dr-b"


def test_an_assignment_ends_with_its_episodes_discharge() -> None:
    b = StreamBuilder().admit(utc("2026-01-01T10:00")).assign("dr-a", utc("2026-01-01T11:00"))
    b.discharge(utc("2026-01-20T10:00"))
    assert view(b, "2026-01-20T09:59").primary_therapist == "dr-a"
    assert view(b, "2026-01-20T10:00").primary_therapist is None
    b.admit(utc("2026-01-22T10:00"))  # readmitted: the old assignment does not carry over
    assert view(b, "2026-02-01T00:00").primary_therapist is None
    b.assign("dr-c", utc("2026-01-23T10:00"))
    assert view(b, "2026-02-01T00:00").primary_therapist == "dr-c"


def test_an_assignment_recorded_after_k_is_not_known() -> None:
    b = StreamBuilder().admit(utc("2026-01-01T10:00"))
    b.assign("dr-a", utc("2026-01-02T10:00"), recorded_at=utc("2026-01-05T10:00"))
    assert view(b, "2026-01-10T00:00", known_at="2026-01-04T00:00").primary_therapist is None
    assert view(b, "2026-01-10T00:00", known_at="2026-01-05T10:00").primary_therapist == "dr-a"


def test_latest_means_latest_clinical_time_for_a_back_dated_assignment() -> None:
    # docs/rules.md section 6: "latest" is by occurred_at (ties: stream order).
    b = StreamBuilder().admit(utc("2026-01-01T10:00")).assign("dr-a", utc("2026-01-10T10:00"))
    b.assign("dr-b", utc("2026-01-05T10:00"))  # recorded later, dated earlier
    assert view(b, "2026-01-07T00:00").primary_therapist == "dr-b"
    assert view(b, "2026-01-12T00:00").primary_therapist == "dr-a"


# --- treatment plan ----------------------------------------------------------------------


def test_plan_next_review_due_and_review_overdue_in_local_dates() -> None:
    # Created Saturday 2026-03-07 23:30 in New York (04:30Z on the 8th): due 2026-03-14,
    # a week that crosses the start of daylight saving time (2026-03-08).
    b = StreamBuilder(timezone=NY).admit(utc("2026-03-01T12:00-05:00"))
    b.plan("pl-1", utc("2026-03-07T23:30-05:00"))
    plan = view(b, "2026-03-14T23:59:59-04:00").treatment_plan
    assert plan is not None
    assert (plan.plan_id, plan.reviews, plan.last_reviewed_at) == ("pl-1", 0, None)
    assert plan.created_at == utc("2026-03-08T04:30")
    assert (plan.next_review_due, plan.review_overdue) == (date(2026, 3, 14), False)
    later = view(b, "2026-03-15T00:00-04:00").treatment_plan
    assert later is not None and later.review_overdue is True


def test_a_review_moves_next_review_due() -> None:
    b = StreamBuilder().admit(utc("2026-01-01T10:00")).plan("pl-1", utc("2026-01-02T10:00"))
    b.review("pl-1", utc("2026-01-08T16:00")).review("pl-1", utc("2026-01-20T16:00"))
    plan = view(b, "2026-01-16T00:00").treatment_plan
    assert plan is not None
    assert (plan.reviews, plan.last_reviewed_at) == (1, utc("2026-01-08T16:00"))
    assert (plan.next_review_due, plan.review_overdue) == (date(2026, 1, 15), True)
    plan = view(b, "2026-01-21T00:00").treatment_plan
    assert plan is not None
    assert (plan.reviews, plan.next_review_due, plan.review_overdue) == (
        2,
        date(2026, 1, 27),
        False,
    )


def test_review_is_not_overdue_once_the_episode_is_discharged() -> None:
    b = StreamBuilder().admit(utc("2026-01-01T10:00")).plan("pl-1", utc("2026-01-02T10:00"))
    b.discharge(utc("2026-01-05T10:00"))
    plan = view(b, "2026-03-01T00:00").treatment_plan
    assert plan is not None and plan.review_overdue is False
    assert plan.next_review_due == date(2026, 1, 9)


def test_objective_statuses_follow_the_latest_review_naming_them() -> None:
    b = StreamBuilder().admit(utc("2026-01-01T10:00"))
    b.plan("pl-1", utc("2026-01-02T10:00"), {"g1": ["o1", "o2"], "g2": ["o3", "o4"]})
    b.review("pl-1", utc("2026-01-08T10:00"), {"o1": "in_progress", "o2": "met"})
    b.review("pl-1", utc("2026-01-15T10:00"), {"o1": "met", "o4": "discontinued"})
    b.review("pl-1", utc("2026-01-22T10:00"))  # names no objective: changes none
    counts = {"open": 4, "met": 0, "in_progress": 0, "not_met": 0, "discontinued": 0}
    assert _objectives(b, "2026-01-08T09:59") == counts
    counts |= {"open": 2, "met": 1, "in_progress": 1}
    assert _objectives(b, "2026-01-08T10:00") == counts
    counts |= {"open": 1, "met": 2, "in_progress": 0, "discontinued": 1}
    assert _objectives(b, "2026-01-30T00:00") == counts


def _objectives(b: StreamBuilder, as_of: str) -> dict[str, int]:
    plan = view(b, as_of).treatment_plan
    assert plan is not None
    return plan.objectives


def test_plan_is_the_latest_created_in_the_latest_episode_admitted_by_t() -> None:
    b = StreamBuilder().admit(utc("2026-01-01T10:00")).plan("pl-1", utc("2026-01-02T10:00"))
    b.plan("pl-2", utc("2026-01-09T10:00")).discharge(utc("2026-01-20T10:00"))
    b.admit(utc("2026-02-01T10:00"), "outpatient")
    plan = view(b, "2026-01-05T00:00").treatment_plan
    assert plan is not None and plan.plan_id == "pl-1"
    plan = view(b, "2026-01-31T00:00").treatment_plan
    assert plan is not None and plan.plan_id == "pl-2"
    readmitted = view(b, "2026-02-02T00:00")  # the latest episode has no plan yet
    assert (readmitted.treatment_plan, readmitted.plan_overdue) == (None, False)
    b.plan("pl-3", utc("2026-02-03T10:00"), recorded_at=utc("2026-02-04T10:00"))
    assert view(b, "2026-02-10T00:00", known_at="2026-02-04T00:00").treatment_plan is None
    plan = view(b, "2026-02-10T00:00").treatment_plan
    assert plan is not None and plan.plan_id == "pl-3"


@pytest.mark.parametrize(
    ("level", "due_days"),
    [("detox", 3), ("inpatient", 3), ("php", 7), ("iop", 7), ("outpatient", 30)],
)
def test_plan_overdue_after_the_admission_levels_plan_due_days(level: str, due_days: int) -> None:
    # Admitted 2026-01-10 22:00 in New York; overdue once T's local date is after
    # 2026-01-10 + due_days.
    b = StreamBuilder(timezone=NY).admit(utc("2026-01-10T22:00-05:00"), level)
    last_due = date(2026, 1, 10).toordinal() + due_days
    due = date.fromordinal(last_due).isoformat()
    after = date.fromordinal(last_due + 1).isoformat()
    assert view(b, f"{due}T23:59:59-05:00").plan_overdue is False
    assert view(b, f"{after}T00:00:00-05:00").plan_overdue is True
    b.plan("pl-1", utc(f"{after}T00:00:00-05:00"))
    assert view(b, f"{after}T00:00:00-05:00").plan_overdue is False


def test_plan_overdue_uses_the_admission_level_and_only_an_open_episode() -> None:
    b = StreamBuilder().admit(utc("2026-01-01T10:00"), "detox")
    b.transition(utc("2026-01-02T10:00"), "outpatient")  # outpatient would allow 30 days
    assert view(b, "2026-01-05T00:00").plan_overdue is True
    b.discharge(utc("2026-01-06T10:00"))
    assert view(b, "2026-01-10T00:00").plan_overdue is False


def test_plan_created_after_t_is_not_yet_known() -> None:
    b = StreamBuilder().admit(utc("2026-01-01T10:00"), "inpatient")
    b.plan("pl-1", utc("2026-01-06T10:00"))
    v = view(b, "2026-01-06T09:59")
    assert (v.treatment_plan, v.plan_overdue) == (None, True)


# --- referrals ---------------------------------------------------------------------------


def test_referrals_oldest_first_with_a_close_after_t_not_yet_known() -> None:
    b = StreamBuilder().admit(utc("2026-01-01T10:00"))
    b.refer("r-2", utc("2026-01-05T10:00"), "psychiatry")
    b.refer("r-1", utc("2026-01-03T10:00"), "trauma")  # recorded later, referred earlier
    b.close_referral("r-1", utc("2026-01-10T10:00"), "declined")
    b.refer("r-3", utc("2026-01-20T10:00"))
    v = view(b, "2026-01-10T09:59")
    assert [(r.referral_id, r.closed_at, r.outcome, r.days_open) for r in v.referrals] == [
        ("r-1", None, None, 7),
        ("r-2", None, None, 5),
    ]
    (r1, r2, r3) = view(b, "2026-01-25T12:00").referrals
    assert (r1.closed_at, r1.outcome, r1.days_open) == (utc("2026-01-10T10:00"), "declined", 7)
    assert (r2.specialty, r2.closed_at, r2.days_open) == ("psychiatry", None, 20)
    assert (r3.referral_id, r3.days_open) == ("r-3", 5)


def test_days_open_counts_local_dates_across_daylight_saving() -> None:
    # Referred Saturday 23:30 EST (04:30Z Mar 8); closed Monday 00:30 EDT (04:30Z Mar 9):
    # 24 hours apart in UTC, but local dates Mar 7 -> Mar 9.
    b = StreamBuilder(timezone=NY).admit(utc("2026-03-01T12:00-05:00"))
    b.refer("r-1", utc("2026-03-07T23:30-05:00"))
    (open_ref,) = view(b, "2026-03-08T00:30-05:00").referrals
    assert open_ref.days_open == 1
    b.close_referral("r-1", utc("2026-03-09T00:30-04:00"), "completed")
    (closed,) = view(b, "2026-04-01T00:00").referrals
    assert (closed.days_open, closed.outcome) == (2, "completed")


def test_referrals_of_earlier_episodes_stay_listed_and_known_at_applies() -> None:
    b = StreamBuilder().admit(utc("2026-01-01T10:00")).refer("r-1", utc("2026-01-02T10:00"))
    b.discharge(utc("2026-01-05T10:00"))
    b.close_referral("r-1", utc("2026-01-08T10:00"), recorded_at=utc("2026-01-09T10:00"))
    (ref,) = view(b, "2026-01-12T00:00", known_at="2026-01-09T00:00").referrals
    assert (ref.closed_at, ref.days_open) == (None, 10)
    (ref,) = view(b, "2026-01-12T00:00").referrals
    assert (ref.closed_at, ref.days_open) == (utc("2026-01-08T10:00"), 6)
    assert view(b, "2026-01-02T09:59").referrals == []


# --- as of in the future, output shape ---------------------------------------------------


def test_as_of_after_now_is_marked() -> None:
    b = StreamBuilder().admit(utc("2026-01-01T10:00"))
    t, now = utc("2026-02-01T00:00"), utc("2026-01-15T00:00")
    future = project_journey(b.events, as_of=t, now=now)
    assert future is not None and future.as_of_in_future is True
    present = project_journey(b.events, as_of=t, now=t)
    assert present is not None and present.as_of_in_future is False
    assert view(b, t).as_of_in_future is False  # no `now` given: nothing to compare with


def test_care_json_shape() -> None:
    b = StreamBuilder().admit(utc("2026-01-01T10:00")).assign("dr-a", utc("2026-01-01T11:00"))
    b.plan("pl-1", utc("2026-01-02T10:00")).refer("r-1", utc("2026-01-03T10:00"))
    data: dict[str, Any] = view(b, "2026-01-04T00:00").model_dump(mode="json")
    assert data["primary_therapist"] == "dr-a"
    assert data["treatment_plan"] == {
        "plan_id": "pl-1",
        "created_at": "2026-01-02T10:00:00+00:00",
        "reviews": 0,
        "last_reviewed_at": None,
        "next_review_due": "2026-01-09",
        "review_overdue": False,
        "objectives": {"open": 1, "met": 0, "in_progress": 0, "not_met": 0, "discontinued": 0},
    }
    assert data["plan_overdue"] is False
    assert data["referrals"] == [
        {
            "referral_id": "r-1",
            "specialty": "trauma",
            "referred_at": "2026-01-03T10:00:00+00:00",
            "closed_at": None,
            "outcome": None,
            "days_open": 1,
        }
    ]
