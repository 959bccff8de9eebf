"""The sessions of one patient as the web pages and the audit report show them: the fold of
`session_log` (corrections and voids applied once), as of T and known at K, with each
session's start also in the patient's local time. Served by
`GET /v1/patients/{id}/sessions`; the report, its SVG timeline and the patient page only
render this, they never fold history themselves."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from journey.events import EventEnvelope, PatientAdmitted
from projections.event_text import value_text
from projections.facts import FALLBACK_TIMEZONE, visible_events
from projections.journey_view import UtcDatetime
from projections.session_log import Amendment, SessionState, fold_session_log

KIND_LABEL = {"correction": "correction", "void": "void (entered in error)"}


class _View(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AmendmentView(_View):
    """One correction or void, in the order recorded."""

    session_id: str
    kind: Literal["correction", "void"]
    kind_label: str = Field(description="`correction` or `void (entered in error)`")
    reason: str
    changes: dict[str, str] = Field(description="corrected field -> new value (instants UTC)")
    changes_text: str = Field(description="`field=value, ...`, `-` for none")
    recorded_at: UtcDatetime
    actor: str | None

    @classmethod
    def of(cls, amendment: Amendment) -> AmendmentView:
        changes = {k: value_text(v) for k, v in amendment.changes.items()}
        return cls(
            session_id=amendment.session_id,
            kind=amendment.kind,
            kind_label=KIND_LABEL[amendment.kind],
            reason=amendment.reason,
            changes=changes,
            changes_text=", ".join(f"{k}={v}" for k, v in changes.items()) or "-",
            recorded_at=amendment.recorded_at,
            actor=amendment.actor,
        )

    @property
    def note(self) -> str:
        """How a session's row names it: `corrected: reason` or `void: reason`."""
        return f"{'corrected' if self.kind == 'correction' else 'void'}: {self.reason}"


class SessionView(_View):
    """A session as amended; `started_local` is its start in the patient's time zone."""

    session_id: str
    started_at: UtcDatetime
    started_local: str = Field(description="ISO-8601 local time with the patient's offset")
    ended_at: UtcDatetime
    format: str
    approach: str
    delivery: str
    duration_minutes: int
    status: str
    voided: bool
    shown_status: str = Field(description="`voided` for a voided session, else its status")
    amendments: list[str] = Field(description="`corrected: reason` / `void: reason`, in order")


class SessionLogView(_View):
    """What `GET /v1/patients/{id}/sessions` answers."""

    patient_id: str
    as_of: UtcDatetime
    known_at: UtcDatetime | None
    timezone: str
    sessions: list[SessionView] = Field(description="started by as_of, by start")
    amendments: list[AmendmentView] = Field(description="every one known at K, as recorded")


def _session(s: SessionState, zone: ZoneInfo, notes: list[str]) -> SessionView:
    return SessionView(
        session_id=s.session_id,
        started_at=s.occurred_at,
        started_local=s.occurred_at.astimezone(zone).isoformat(),
        ended_at=s.occurred_at + timedelta(minutes=s.duration_minutes),
        format=s.format,
        approach=s.approach,
        delivery=s.delivery,
        duration_minutes=s.duration_minutes,
        status=s.status,
        voided=s.voided,
        shown_status="voided" if s.voided else s.status,
        amendments=notes,
    )


def _timezone(events: Sequence[EventEnvelope]) -> str:
    for e in events:
        if isinstance(e.payload, PatientAdmitted):
            return e.payload.timezone
    return FALLBACK_TIMEZONE


def session_log_view(
    events: Sequence[EventEnvelope], *, as_of: datetime, known_at: datetime | None = None
) -> SessionLogView | None:
    """The session log of one patient's stream; None when nothing is known at K."""
    known = visible_events(events, known_at)
    if not known:
        return None
    log = fold_session_log(known)
    timezone = _timezone(known)
    zone = ZoneInfo(timezone)
    amendments = [AmendmentView.of(a) for a in log.amendments]
    notes: dict[str, list[str]] = {}
    for a in amendments:
        notes.setdefault(a.session_id, []).append(a.note)
    started = sorted(
        (s for s in log.sessions.values() if s.occurred_at <= as_of),
        key=lambda s: (s.occurred_at, s.session_id),
    )
    return SessionLogView(
        patient_id=known[0].patient_id,
        as_of=as_of,
        known_at=known_at,
        timezone=timezone,
        sessions=[_session(s, zone, notes.get(s.session_id, [])) for s in started],
        amendments=amendments,
    )
