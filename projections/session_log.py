"""Sessions as known at K: each SessionRecorded with its corrections and void applied.

Corrections and voids apply whatever T is; the caller then filters by the corrected
`occurred_at`. A correction or void naming a session not (yet) known is ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import NamedTuple, TypeVar

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


def _recorded(envelope: EventEnvelope, event: SessionRecorded) -> SessionState:
    return SessionState(
        session_id=event.session_id,
        occurred_at=envelope.occurred_at,
        format=event.format,
        approach=event.approach,
        duration_minutes=event.duration_minutes,
        delivery=event.delivery,
        status=event.status,
        clinician_id=event.clinician_id,
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


def fold_sessions(events: Iterable[EventEnvelope]) -> dict[str, SessionState]:
    """Sessions by id, in recording order, from already `known_at`-filtered events."""
    sessions: dict[str, SessionState] = {}
    for envelope in events:
        payload = envelope.payload
        if isinstance(payload, SessionRecorded):
            sessions.setdefault(payload.session_id, _recorded(envelope, payload))
        elif isinstance(payload, SessionCorrected | SessionEnteredInError):
            known = sessions.get(payload.session_id)
            if known is not None:
                sessions[payload.session_id] = amended(known, payload)
    return sessions


def sessions_as_of(sessions: Mapping[str, SessionState], as_of: datetime) -> list[SessionState]:
    """The sessions started at or before `as_of` (by corrected start), voided included."""
    return [s for s in sessions.values() if s.occurred_at <= as_of]
