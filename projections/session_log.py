"""Sessions as known at K: each SessionRecorded with its corrections and void applied.

Corrections and voids apply whatever T is; the caller then filters by the corrected
`occurred_at`. A correction or void naming a session not (yet) known is ignored.

This is the one fold of corrections and voids: the journey, the read models, the session
log of the web pages and the audit report (`session_view`), the SVG timeline and the FHIR
export all take sessions as it gives them; `fold_session_log` also keeps each amendment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Literal, NamedTuple, TypeVar

from journey.events import (
    EventEnvelope,
    SessionCorrected,
    SessionEnteredInError,
    SessionRecorded,
)

_T = TypeVar("_T")


class SessionState(NamedTuple):
    """A session as currently known; `occurred_at` is the (corrected) session start."""

    session_id: str
    occurred_at: datetime
    format: str
    approach: str
    duration_minutes: int
    delivery: str
    status: str
    clinician_id: str | None = None
    voided: bool = False

    @property
    def attended(self) -> bool:
        """Attended and not voided: the sessions that count toward hours."""
        return self.status == "attended" and not self.voided


AmendmentKind = Literal["correction", "void"]
CORRECTABLE = (
    "format",
    "approach",
    "duration_minutes",
    "session_occurred_at",
    "delivery",
    "status",
)


class Amendment(NamedTuple):
    """A correction or void as recorded; `changes` holds the corrected fields only."""

    session_id: str
    kind: AmendmentKind
    reason: str
    changes: dict[str, str | int | datetime]
    recorded_at: datetime
    actor: str | None
    version: int

    @classmethod
    def of(
        cls, envelope: EventEnvelope, event: SessionCorrected | SessionEnteredInError
    ) -> Amendment:
        if isinstance(event, SessionEnteredInError):
            kind: AmendmentKind = "void"
            changes: dict[str, str | int | datetime] = {}
        else:
            kind = "correction"
            found = {name: getattr(event, name) for name in CORRECTABLE}
            changes = {name: value for name, value in found.items() if value is not None}
        return cls(
            event.session_id, kind, event.reason, changes,
            envelope.recorded_at, envelope.actor, envelope.version,
        )  # fmt: skip


class SessionLog(NamedTuple):
    """Every known session as amended (by id, in recording order) and every amendment."""

    sessions: dict[str, SessionState]
    amendments: list[Amendment]

    def of_session(self, session_id: str) -> list[Amendment]:
        return [a for a in self.amendments if a.session_id == session_id]


def recorded_session(envelope: EventEnvelope, event: SessionRecorded) -> SessionState:
    """The session a `SessionRecorded` event (in its envelope) records."""
    return SessionState(  # positional: SessionState's field order (cheaper per session)
        event.session_id,
        envelope.occurred_at,
        event.format,
        event.approach,
        event.duration_minutes,
        event.delivery,
        event.status,
        event.clinician_id,
    )


def _pick(corrected: _T | None, current: _T) -> _T:
    return current if corrected is None else corrected


def _corrected(session: SessionState, event: SessionCorrected) -> SessionState:
    return session._replace(
        occurred_at=_pick(event.session_occurred_at, session.occurred_at),
        format=_pick(event.format, session.format),
        approach=_pick(event.approach, session.approach),
        duration_minutes=_pick(event.duration_minutes, session.duration_minutes),
        delivery=_pick(event.delivery, session.delivery),
        status=_pick(event.status, session.status),
    )


def amended(session: SessionState, event: SessionCorrected | SessionEnteredInError) -> SessionState:
    """The session after a correction or a void (shared with the read models' handlers)."""
    if isinstance(event, SessionEnteredInError):
        return session._replace(voided=True)
    return _corrected(session, event)


def fold_sessions(
    events: Iterable[EventEnvelope], amendments: list[Amendment] | None = None
) -> dict[str, SessionState]:
    """Sessions by id, in recording order, from already `known_at`-filtered events; each
    correction or void applied is appended to `amendments` when given."""
    sessions: dict[str, SessionState] = {}
    for envelope in events:
        payload = envelope.payload
        if isinstance(payload, SessionRecorded):
            sessions.setdefault(payload.session_id, recorded_session(envelope, payload))
        elif isinstance(payload, SessionCorrected | SessionEnteredInError):
            known = sessions.get(payload.session_id)
            if known is not None:
                sessions[payload.session_id] = amended(known, payload)
                if amendments is not None:
                    amendments.append(Amendment.of(envelope, payload))
    return sessions


def fold_session_log(events: Iterable[EventEnvelope]) -> SessionLog:
    """The sessions and their amendments from already `known_at`-filtered events."""
    amendments: list[Amendment] = []
    return SessionLog(fold_sessions(events, amendments), amendments)


def sessions_as_of(sessions: Mapping[str, SessionState], as_of: datetime) -> list[SessionState]:
    """The sessions started at or before `as_of` (by corrected start), voided included."""
    return [s for s in sessions.values() if s.occurred_at <= as_of]
