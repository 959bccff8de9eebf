"""The journey of one patient folded from its stored rows, without an envelope per event
(the cold `show`, issue 14).

The journey reads two things of a history: its sessions (`fold_sessions`: a session's
recording, then its corrections and voids) and everything else (admissions, levels,
discharges, the care program: `facts_of`). So each stored row is decoded as the history
read path decodes it (`EventMapper.decoded_state`: same decryption, decoding, upcasting and
errors) and then kept as what the fold needs of it:

- a `SessionRecorded` as its `SessionState` (what `fold_sessions` makes of its envelope),
  with its recording time (the `known_at` filter);
- a correction or a void as its wire payload (what `amended` reads), with its recording time;
- any other row as its envelope, built as the history read path builds it (a row of another
  kind, such as an erasure marker, goes through that path whole, errors included).

`fold_journey` then filters both by `known_at`, folds the sessions as `fold_sessions` does
and hands the rest to `facts_of`, as `journey_facts` does; the care program's "latest" order
is by (occurred_at, position) and the positions of the other rows keep the stream's order.
tests/app/test_stored_journey.py compares both folds byte for byte. What was read is kept
between reads (`JourneyApplication.folds`, dropped by `forget`): only newer rows are read
then, as the history cache does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from eventsourcing.persistence import StoredEvent

from infrastructure.transcoder import OrjsonTranscoder
from journey import domain_events as ev
from journey.application import JourneyApplication
from journey.envelopes import envelope_from_state
from journey.errors import UnknownPatient
from journey.events import EventEnvelope, SessionCorrected, SessionEnteredInError, SessionRecorded
from journey.mapper import EventMapper, patient_event_class
from projections.calendar import require_aware
from projections.facts import facts_of
from projections.journey import journey_view
from projections.journey_view import JourneyView
from projections.session_log import SessionState, amended, recorded_session

Amend = SessionCorrected | SessionEnteredInError
SessionRow = tuple[datetime, SessionState | Amend]  # recording time, what the fold reads


@dataclass(frozen=True)
class StoredHistory:
    """What the journey needs of a patient's stored rows up to `version`, in stream order."""

    patient_id: str
    version: int
    sessions: tuple[SessionRow, ...]
    others: tuple[EventEnvelope, ...]


def read_history(app: JourneyApplication, patient_id: str) -> StoredHistory | None:
    """The patient's stored history for the journey (kept one, then newer rows); None when
    the application's mapper has no such read (the caller folds `app.history`).
    UnknownPatient when nothing is stored, as `app.history` raises it."""
    mapper = app.mapper
    if not isinstance(mapper, EventMapper):
        return None
    since = app.forgets()
    try:
        known: StoredHistory | None = app.folds.get(patient_id, evict=True)
    except KeyError:
        known = None
    rows = app.recorder.select_events(patient_id, gt=None if known is None else known.version)
    if not rows:
        if known is None:
            raise UnknownPatient(patient_id)
        app.keep(app.folds, patient_id, known, since)
        return known
    sessions, others = _decode(mapper, rows)
    history = StoredHistory(
        str(rows[0].originator_id) if known is None else known.patient_id,
        rows[-1].originator_version,
        sessions if known is None else (*known.sessions, *sessions),
        others if known is None else (*known.others, *others),
    )
    app.keep(app.folds, patient_id, history, since)
    return history


def _decode(
    mapper: EventMapper, rows: Sequence[StoredEvent]
) -> tuple[tuple[SessionRow, ...], tuple[EventEnvelope, ...]]:
    opener = mapper.row_opener()
    flat = (
        mapper.transcoder.decode_flat if isinstance(mapper.transcoder, OrjsonTranscoder) else None
    )
    sessions: list[SessionRow] = []
    others: list[EventEnvelope] = []
    recorded, corrected, voided = ev.SessionRecorded, ev.SessionCorrected, ev.SessionEnteredInError
    for row in rows:
        event_class = patient_event_class(row.topic)
        if event_class is None:  # an erasure marker: the history read path (and its error)
            others.extend(mapper.to_envelopes([row]))
            continue
        plaintext = row.state if opener is None else opener(row)
        if event_class is recorded and flat is not None:
            found = _recorded(flat(plaintext, _INSTANTS))
            if found is not None:
                sessions.append(found)
                continue
        state = mapper.decoded_state(event_class, row, plaintext)
        envelope = envelope_from_state(
            event_class, state["originator_id"], row.originator_version, state
        )
        payload = envelope.payload
        if isinstance(payload, SessionRecorded):
            sessions.append((envelope.recorded_at, recorded_session(envelope, payload)))
        elif event_class is corrected or event_class is voided:
            assert isinstance(payload, SessionCorrected | SessionEnteredInError)
            sessions.append((envelope.recorded_at, payload))
        else:
            others.append(envelope)
    return tuple(sessions), tuple(others)


_INSTANTS = ("timestamp", "occurred_at")
_SESSION_VERSION = ev.SessionRecorded.class_version
_new_session = partial(tuple.__new__, SessionState)  # SessionState(*values), without __new__


def _recorded(state: dict[str, Any] | None) -> SessionRow | None:
    """A `SessionRecorded` row of the current version as `fold_sessions` reads it, from its
    flat decoded state (`OrjsonTranscoder.decode_flat`, nothing to upcast); None otherwise
    (the row then takes the history read path)."""
    if state is None or state.get("class_version") != _SESSION_VERSION:
        return None
    try:  # SessionState(...) positionally, as `session_log.recorded_session` builds it
        session = _new_session((
            state["session_id"], state["occurred_at"], state["format"], state["approach"],
            state["duration_minutes"], state["delivery"], state["status"],
            state["clinician_id"], False,
        ))  # fmt: skip
        return state["timestamp"], session
    except KeyError:
        return None


def fold_journey(
    history: StoredHistory,
    *,
    as_of: datetime,
    known_at: datetime | None = None,
    now: datetime | None = None,
) -> JourneyView | None:
    """`project_journey` of the patient's history, from what `read_history` kept of it."""
    as_of = require_aware(as_of, "as_of")
    known_at = None if known_at is None else require_aware(known_at, "known_at")
    if known_at is None:
        rows, others = history.sessions, history.others
    else:
        rows = tuple(row for row in history.sessions if row[0] <= known_at)
        others = tuple(e for e in history.others if e.recorded_at <= known_at)
    if not rows and not others:
        return None
    facts = facts_of(history.patient_id, others, _fold_sessions(rows), as_of=as_of,
                     known_at=known_at)  # fmt: skip
    return journey_view(facts, now=now)


def _fold_sessions(rows: Sequence[SessionRow]) -> dict[str, SessionState]:
    """`fold_sessions` of the envelopes these rows were read from."""
    sessions: dict[str, SessionState] = {}
    for _, item in rows:
        if type(item) is SessionState:
            sessions.setdefault(item.session_id, item)
        else:
            assert isinstance(item, SessionCorrected | SessionEnteredInError)
            known = sessions.get(item.session_id)
            if known is not None:
                sessions[item.session_id] = amended(known, item)
    return sessions
