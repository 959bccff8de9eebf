"""A replay page decoded for the set-based path: every stored `SessionRecorded` straight
into a `SessionColumns` row (orjson of the plaintext, the ids pseudonymized; no domain
event, envelope or pydantic model), every other event into its envelope as the log reader
builds it (`consumers/log_reader.py`), pseudonymized, in log order.

A row the set-based decoding does not recognise exactly (another class version, an
instant not stored as eventsourcing's `datetime_iso`, a field missing) takes the plain
path: it is decoded as the log reader decodes it, so the result is the same either way.
Decryption is the mapper's (`row_opener`): same keys, same errors; an erased patient's
events and erasure markers are skipped, as the log reader skips them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import orjson
from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic

from infrastructure.pseudonym_keys import Pseudonymizer
from journey.application import JourneyApplication
from journey.domain_events import PatientEvent, SessionRecorded
from journey.envelopes import to_envelope
from journey.errors import PatientErased
from journey.events import EventEnvelope
from journey.mapper import EventMapper
from projections.read_models.session_runs import Decoded, SessionColumns

SESSION_TOPIC = get_topic(SessionRecorded)
_DATETIME = "datetime_iso"


class PageDecoder:
    """Decodes the notifications of replay pages for one application and pseudonymizer."""

    def __init__(self, app: JourneyApplication, pseudonyms: Pseudonymizer) -> None:
        self.app = app
        self.pseudonyms = pseudonyms
        mapper = app.mapper
        self._fast = isinstance(mapper, EventMapper)  # else: every row the plain way
        self._open: Callable[[Notification], bytes] | None = (
            mapper.row_opener() if isinstance(mapper, EventMapper) else None
        )  # None: the stored state is the plaintext

    def decode(self, notifications: Sequence[Notification]) -> list[Decoded]:
        """The page's readable events in log order (erased patients' left out)."""
        found: list[Decoded] = []
        for notification in notifications:
            try:
                columns = self._columns(notification) if self._fast else None
                found.append(columns or self._envelope(notification))
            except PatientErased:
                continue
        return found

    def _envelope(self, notification: Notification) -> EventEnvelope:
        event = self.app.mapper.to_domain_event(notification)
        assert isinstance(event, PatientEvent)
        return self.pseudonyms(to_envelope(event), in_place=True)

    def _columns(self, row: Notification) -> SessionColumns | None:
        """The row's columns; None when it is not a SessionRecorded this path reads."""
        if row.topic != SESSION_TOPIC:
            return None
        plaintext = row.state if self._open is None else self._open(row)
        try:
            state = orjson.loads(plaintext)
        except orjson.JSONDecodeError:
            return None  # the plain path raises the mapper's error
        if type(state) is not dict or state.get("class_version") != SessionRecorded.class_version:
            return None
        return _session(self.pseudonyms, str(row.originator_id), row.originator_version, state)


def _text(value: Any) -> str | None:
    """The stored text of a `datetime_iso` instant; None for any other shape."""
    if type(value) is dict and len(value) == 2 and value.get("_type_") == _DATETIME:
        data = value.get("_data_")
        if type(data) is str:
            return data
    return None


def _session(
    pseudonyms: Pseudonymizer, patient_id: str, version: int, state: dict[str, Any]
) -> SessionColumns | None:
    occurred, recorded = _text(state.get("occurred_at")), _text(state.get("timestamp"))
    try:
        session_id, fmt, approach = state["session_id"], state["format"], state["approach"]
        minutes, delivery = state["duration_minutes"], state["delivery"]
        status, clinician = state["status"], state["clinician_id"]
    except KeyError:
        return None
    if occurred is None or recorded is None or not isinstance(session_id, str):
        return None
    pseudonym = pseudonyms.id
    return SessionColumns(
        pseudonym(patient_id),
        patient_id,
        version,
        datetime.fromisoformat(occurred),
        occurred,
        recorded,
        pseudonym(session_id, "session"),
        fmt,
        approach,
        minutes,
        delivery,
        status,
        None if clinician is None else pseudonym(clinician, "clinician"),
    )
