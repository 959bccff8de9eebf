"""Build one patient's event stream directly as EventEnvelopes, for projection tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from journey.catalog import default_catalog
from journey.events import (
    EventEnvelope,
    LevelOfCareChanged,
    PatientAdmitted,
    PatientDischarged,
    PatientReferred,
    PrimaryTherapistAssigned,
    ReferralClosed,
    SessionCorrected,
    SessionEnteredInError,
    SessionRecorded,
    TreatmentPlanCreated,
    TreatmentPlanReviewed,
)

FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)


def utc(text: str) -> datetime:
    """`2026-01-01T10:00` (or with an offset) as an aware datetime, UTC when no offset."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass
class StreamBuilder:
    """Appends events in stream order; `recorded_at` defaults to max(previous, occurred_at)."""

    patient_id: str = "p-001"
    timezone: str = "UTC"
    events: list[EventEnvelope] = field(default_factory=list)
    level: str | None = None
    primary: str | None = None
    _last_recorded: datetime | None = None

    def _add(self, payload: object, at: datetime, recorded_at: datetime | None) -> StreamBuilder:
        if recorded_at is None:
            last = self._last_recorded
            recorded_at = at if last is None or at > last else last + timedelta(microseconds=1)
        self._last_recorded = recorded_at
        version = len(self.events) + 1
        envelope = EventEnvelope.model_validate(
            {
                "event_id": f"{self.patient_id}-{version}",
                "patient_id": self.patient_id,
                "version": version,
                "schema_version": 1,
                "occurred_at": at,
                "recorded_at": recorded_at,
                "payload": payload,
            }
        )
        self.events.append(envelope)
        return self

    def admit(
        self,
        at: datetime,
        level: str = "iop",
        age_group: str = "adult",
        recorded_at: datetime | None = None,
    ) -> StreamBuilder:
        self.level = level
        payload = PatientAdmitted.model_validate(
            {"level": level, "age_group": age_group, "timezone": self.timezone}
        )
        return self._add(payload, at, recorded_at)

    def transition(
        self, at: datetime, to_level: str, recorded_at: datetime | None = None
    ) -> StreamBuilder:
        levels = default_catalog().levels
        assert self.level is not None
        up = levels[to_level].rank > levels[self.level].rank
        payload = LevelOfCareChanged(
            from_level=self.level, to_level=to_level, direction="step_up" if up else "step_down"
        )
        self.level = to_level
        return self._add(payload, at, recorded_at)

    def discharge(
        self, at: datetime, reason: str = "completed", recorded_at: datetime | None = None
    ) -> StreamBuilder:
        self.level = self.primary = None
        return self._add(PatientDischarged(reason=reason), at, recorded_at)

    def session(
        self,
        at: datetime,
        minutes: int = 60,
        *,
        session_id: str | None = None,
        approach: str = "cbt",
        format: str = "group",
        status: str = "attended",
        clinician_id: str | None = None,
        recorded_at: datetime | None = None,
    ) -> StreamBuilder:
        payload = SessionRecorded(
            session_id=session_id or f"s-{len(self.events) + 1}",
            format=format,
            approach=approach,
            duration_minutes=minutes,
            delivery="in_person",
            status=status,
            clinician_id=clinician_id,
        )
        return self._add(payload, at, recorded_at)

    def correct(
        self,
        session_id: str,
        at: datetime,
        *,
        recorded_at: datetime | None = None,
        **changes: object,
    ) -> StreamBuilder:
        payload = SessionCorrected.model_validate(
            {"session_id": session_id, "reason": "typo", **changes}
        )
        return self._add(payload, at, recorded_at)

    def void(
        self, session_id: str, at: datetime, recorded_at: datetime | None = None
    ) -> StreamBuilder:
        payload = SessionEnteredInError(session_id=session_id, reason="wrong patient")
        return self._add(payload, at, recorded_at)

    def assign(
        self, clinician_id: str, at: datetime, recorded_at: datetime | None = None
    ) -> StreamBuilder:
        previous = self.primary
        self.primary = clinician_id
        payload = PrimaryTherapistAssigned(
            clinician_id=clinician_id, previous_clinician_id=previous
        )
        return self._add(payload, at, recorded_at)

    def plan(
        self,
        plan_id: str,
        at: datetime,
        objectives: dict[str, list[str]] | None = None,
        recorded_at: datetime | None = None,
    ) -> StreamBuilder:
        """`objectives`: goal id -> its objective ids (default one goal, one objective)."""
        goals = objectives or {f"{plan_id}-g1": [f"{plan_id}-o1"]}
        dimensions = default_catalog().asam_dimensions
        payload = TreatmentPlanCreated.model_validate(
            {
                "plan_id": plan_id,
                "goals": [
                    {
                        "goal_id": goal_id,
                        "dimension": dimensions[i % len(dimensions)],
                        "objectives": [
                            {"objective_id": o, "target_date": date(2030, 1, 1)} for o in ids
                        ],
                    }
                    for i, (goal_id, ids) in enumerate(goals.items())
                ],
            }
        )
        return self._add(payload, at, recorded_at)

    def review(
        self,
        plan_id: str,
        at: datetime,
        objectives: dict[str, str] | None = None,
        outcome: str = "continue",
        recorded_at: datetime | None = None,
    ) -> StreamBuilder:
        payload = TreatmentPlanReviewed(
            plan_id=plan_id, outcome=outcome, objectives=objectives or {}
        )
        return self._add(payload, at, recorded_at)

    def refer(
        self,
        referral_id: str,
        at: datetime,
        specialty: str = "trauma",
        recorded_at: datetime | None = None,
    ) -> StreamBuilder:
        payload = PatientReferred(referral_id=referral_id, specialty=specialty)
        return self._add(payload, at, recorded_at)

    def close_referral(
        self,
        referral_id: str,
        at: datetime,
        outcome: str = "completed",
        recorded_at: datetime | None = None,
    ) -> StreamBuilder:
        payload = ReferralClosed(referral_id=referral_id, outcome=outcome)
        return self._add(payload, at, recorded_at)
