"""Stored rows of decided events for the bulk import, encoded once and directly.

The application's mapper (`journey.mapper.EventMapper` on the `OrjsonTranscoder`) stores an
event as the JSON of its state with each datetime (or date) written by its registered
transcoding as `{"_type_": name, "_data_": text}`, through a `StoredEvent`. For the flat
states the patient's events have (text, numbers, booleans, None, instants, dates) the same
bytes come from one `orjson.dumps` of the state with those values already in that form:
no `StoredEvent`, no walk of the state, no call back from orjson per instant. Any other
event or value, and a store whose mapper seals, compresses or encrypts, takes the mapper's
own path. A `SessionRecorded` (most of the events) is written from a literal of its stored
state. `tests/app/test_bulk_rows.py` compares both to the byte."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import orjson
from eventsourcing.persistence import DatetimeAsISO, Mapper, StoredEvent, Transcoding
from eventsourcing.utils import get_topic

from audit.anchors import Row
from infrastructure.transcoder import OrjsonTranscoder
from journey import session_batch
from journey.domain_events import PatientEvent, SessionRecorded, stored_names
from journey.mapper import EventMapper

_LEAVES = frozenset({str, int, float, bool, type(None)})  # orjson writes these as json does


def iso_text(value: datetime) -> datetime | str:
    """`value.isoformat()` as orjson writes it: the datetime itself (orjson's text is the
    same), unless its UTC offset has seconds (orjson would drop them)."""
    tz = value.tzinfo
    if tz is UTC:
        return value
    offset = value.utcoffset()
    if offset is not None and (offset.seconds % 60 or offset.microseconds):
        return value.isoformat()
    return value


def _encoded(transcoding: Transcoding | None) -> Callable[[datetime], datetime | str]:
    return transcoding.encode if transcoding is not None else str  # (None: not used)


def _row(stored: StoredEvent) -> Row:
    return str(stored.originator_id), stored.originator_version, stored.topic, stored.state


class RowEncoder:
    """`encode(event)`: its stored row (patient, version, topic, state) as the mapper makes it."""

    def __init__(self, mapper: Mapper[Any]) -> None:
        self._mapper = mapper
        transcoder = mapper.transcoder
        plain = (
            isinstance(mapper, EventMapper)
            and isinstance(transcoder, OrjsonTranscoder)
            and mapper.cipher is None
            and mapper.compressor is None
            and getattr(mapper, "keyring", None) is None
        )
        types: dict[type, Transcoding] = getattr(transcoder, "types", {})
        # instants and dates, which orjson hands back to their transcodings, written as text
        self._instants = {
            t: types[t]
            for t, sample in ((datetime, datetime(2000, 1, 1)), (date, date(2000, 1, 1)))
            if t in types and type(types[t].encode(sample)) is str
        }
        self._topics: dict[type[PatientEvent], str] = {}
        self.encode: Callable[[Any], Row] = self._direct if plain else self._mapped
        self._datetime = self._instants.get(datetime)
        self._session_topic = get_topic(SessionRecorded)
        iso = self._datetime is not None and type(self._datetime) is DatetimeAsISO
        self._datetime_text: Callable[[datetime], Any] = (
            iso_text if iso else _encoded(self._datetime)
        )
        # SessionRecorded's stored form as `session_row` writes it (session_batch.FAST pins
        # it), on a plain store
        self.sessions = plain and self._datetime is not None and session_batch.FAST
        # an instant's stored form in a session's row: its transcoding's name and its text
        name = self._datetime.name if self._datetime is not None else ""
        self.session_instants = (name, self._datetime_text)

    def _mapped(self, event: Any) -> Row:
        return _row(self._mapper.to_stored_event(event))

    def _direct(self, event: Any) -> Row:
        if type(event) is SessionRecorded and self.sessions:
            return self._session(event)
        if not isinstance(event, PatientEvent):
            return self._mapped(event)
        kind = type(event)
        values, instants, state = event.__dict__, self._instants, {}
        for name in stored_names(kind):
            value = values[name]
            if type(value) in instants:
                transcoding = instants[type(value)]
                value = {"_type_": transcoding.name, "_data_": transcoding.encode(value)}
            elif type(value) not in _LEAVES:
                return self._mapped(event)
            state[name] = value
        if kind.class_version > 1:
            state["class_version"] = kind.class_version
        topic = self._topics.get(kind)
        if topic is None:
            topic = self._topics[kind] = get_topic(kind)
        return str(event.originator_id), event.originator_version, topic, orjson.dumps(state)

    def _session(self, event: SessionRecorded) -> Row:
        """`_direct` of a session, its stored state written as a literal."""
        row = self.session_row(event.__dict__)
        return row if row is not None else self._mapped(event)

    def session_row(self, values: dict[str, Any]) -> Row | None:
        """The stored row of the `SessionRecorded` with these fields (its `__dict__`), its
        state written as a literal; None when this store's mapper writes it otherwise (see
        `sessions`) or a value is of a type the literal does not write."""
        if not self.sessions:
            return None
        leaves = (
            values["actor"],
            values["recorded_by"],
            values["chain_hash"],
            values["session_id"],
            values["format"],
            values["approach"],
            values["duration_minutes"],
            values["delivery"],
            values["status"],
            values["clinician_id"],
        )
        if (
            type(values["timestamp"]) is not datetime
            or type(values["occurred_at"]) is not datetime
            or not _LEAVES.issuperset(map(type, leaves))
        ):
            return None
        name, text = self.session_instants
        state = {
            "timestamp": {"_type_": name, "_data_": text(values["timestamp"])},
            "occurred_at": {"_type_": name, "_data_": text(values["occurred_at"])},
            "actor": leaves[0],
            "recorded_by": leaves[1],
            "chain_hash": leaves[2],
            "session_id": leaves[3],
            "format": leaves[4],
            "approach": leaves[5],
            "duration_minutes": leaves[6],
            "delivery": leaves[7],
            "status": leaves[8],
            "clinician_id": leaves[9],
            "class_version": 2,
        }
        row = str(values["originator_id"]), values["originator_version"], self._session_topic
        return (*row, orjson.dumps(state))
