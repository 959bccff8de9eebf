"""A demo cohort's stored histories with the care events of SPEC 4/5 added, as envelopes:
primary therapists (some changed), plans reviewed about weekly (some late, some never
made), referrals (some still open). The care commands are not on this branch's write side
yet, so the streams are built here and fed to both the read-model handlers and the live
journey fold, exactly as the log would give them (care events filed right after their
episode's admission in stream order, dated within the episode)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from journey.catalog import default_catalog
from journey.events import (
    EventEnvelope,
    PatientAdmitted,
    PatientDischarged,
    PatientReferred,
    PrimaryTherapistAssigned,
    ReferralClosed,
    SessionRecorded,
    TreatmentPlanCreated,
    TreatmentPlanReviewed,
)

Payload = (
    PrimaryTherapistAssigned | TreatmentPlanCreated | TreatmentPlanReviewed | PatientReferred
    | ReferralClosed
)  # fmt: skip


def _episodes(
    history: list[EventEnvelope], until: datetime
) -> list[tuple[int, datetime, datetime]]:
    """(stream index of the admission, admitted at, discharged at or `until`)."""
    found: list[tuple[int, datetime, datetime]] = []
    for i, e in enumerate(history):
        if isinstance(e.payload, PatientAdmitted):
            found.append((i, e.occurred_at, until))
        elif isinstance(e.payload, PatientDischarged) and found:
            index, admitted, _ = found[-1]
            found[-1] = (index, admitted, e.occurred_at)
    return found


class CareMaker:
    def __init__(self, seed: int, until: date) -> None:
        self.rng = random.Random(seed)
        self.until = datetime.combine(until, time(), tzinfo=UTC)
        self.catalog = default_catalog()
        self.count = 0

    def _at(self, start: datetime, end: datetime, low: float, high: float) -> datetime | None:
        at = start + timedelta(days=self.rng.uniform(low, high))
        return at if at <= end else None

    def episode(
        self, clinicians: list[str], start: datetime, end: datetime
    ) -> list[tuple[datetime, Payload]]:
        rng, out = self.rng, []
        self.count += 1
        n = self.count
        previous: str | None = None
        for k in range(rng.choice((0, 1, 1, 1, 2))):
            at = self._at(start, end, 0 if k == 0 else 10, 3 if k == 0 else 40)
            if at is not None:
                chosen = rng.choice(clinicians)
                assigned = PrimaryTherapistAssigned(
                    clinician_id=chosen, previous_clinician_id=previous
                )
                out.append((at, assigned))
                previous = chosen
        created = self._at(start, end, 0, 12) if rng.random() < 0.85 else None
        if created is not None:
            out += self._plan(f"plan-{n}", created, end)
        for r in range(rng.choice((0, 0, 1, 2))):
            referred = self._at(start, end, 0, 30)
            if referred is not None:
                out += self._referral(f"ref-{n}-{r}", referred)
        return out

    def _plan(
        self, plan_id: str, created: datetime, end: datetime
    ) -> list[tuple[datetime, Payload]]:
        goals: Any = [{"goal_id": "g1", "dimension": self.rng.choice(self.catalog.asam_dimensions),
                       "description": "free text", "objectives": [
                           {"objective_id": "o1", "target_date": created.date()},
                           {"objective_id": "o2", "target_date": created.date()}]}]  # fmt: skip
        out: list[tuple[datetime, Payload]] = [
            (created, TreatmentPlanCreated(plan_id=plan_id, goals=goals))
        ]
        at = created
        while (nxt := self._at(at, end, 5, 10.5)) is not None:
            statuses = {"o1": self.rng.choice(self.catalog.objective_statuses)}
            out.append(
                (
                    nxt,
                    TreatmentPlanReviewed(plan_id=plan_id, outcome="continue", objectives=statuses),
                )
            )
            at = nxt
        return out

    def _referral(self, referral_id: str, referred: datetime) -> list[tuple[datetime, Payload]]:
        specialty = self.rng.choice(self.catalog.referral_specialties)
        out: list[tuple[datetime, Payload]] = [
            (referred, PatientReferred(referral_id=referral_id, specialty=specialty))
        ]
        if self.rng.random() < 0.6:
            closed = referred + timedelta(days=self.rng.uniform(0.2, 25))
            if closed <= self.until:
                outcome = self.rng.choice(self.catalog.referral_close_outcomes)
                out.append((closed, ReferralClosed(referral_id=referral_id, outcome=outcome)))
        return out


def with_care(history: list[EventEnvelope], maker: CareMaker) -> list[EventEnvelope]:
    """The history with care events filed after each admission, versions renumbered."""
    clinicians = sorted({e.payload.clinician_id for e in history
                         if isinstance(e.payload, SessionRecorded) and e.payload.clinician_id})  # fmt: skip
    clinicians = clinicians or ["c-none"]
    extra: dict[int, list[tuple[datetime, Payload]]] = {
        index: sorted(maker.episode(clinicians, start, end), key=lambda p: p[0])
        for index, start, end in _episodes(history, maker.until)
    }
    stream: list[EventEnvelope] = []
    for i, envelope in enumerate(history):
        stream.append(envelope)
        for at, payload in extra.get(i, []):
            stream.append(envelope.model_copy(update={
                "event_id": f"{envelope.patient_id}-care-{len(stream)}", "occurred_at": at,
                "payload": payload}))  # fmt: skip
    return [e.model_copy(update={"version": v}) for v, e in enumerate(stream, start=1)]
