"""`OrjsonTranscoder.decode_flat` (the stored-row fold's decoding of a `SessionRecorded`)
gives what `decode` gives, or None: never another value, and None for every shape it does
not handle (the row then takes `decode`, which gives the result or the error)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from config.settings import Settings
from infrastructure.transcoder import OrjsonTranscoder
from services.bootstrap import build_application

INSTANTS = ("timestamp", "occurred_at")
STATE = (
    b'{"timestamp":{"_type_":"datetime_iso","_data_":"2026-11-30T21:13:37.023987+00:00"},'
    b'"occurred_at":{"_type_":"datetime_iso","_data_":"2024-01-04T22:00:00-07:00"},'
    b'"actor":null,"recorded_by":"u-1","chain_hash":"e15e","session_id":"s-5",'
    b'"format":"group","approach":"yoga","duration_minutes":65,"delivery":"in_person",'
    b'"status":"attended","clinician_id":null,"class_version":2}'
)
INSTANT = b'{"_type_":"datetime_iso","_data_":"2024-01-01T00:00:00"}'
OCCURRED = b'{"_type_":"datetime_iso","_data_":"2024-01-04T22:00:00-07:00"}'
DECLINED = {
    "nested object": STATE.replace(b'"u-1"', b'{"a":1}'),
    "array": STATE.replace(b'"u-1"', b"[1]"),
    "a brace in a string": STATE.replace(b'"u-1"', b'"u{1"'),
    "a bracket in a string": STATE.replace(b'"u-1"', b'"u[1"'),
    "registered object elsewhere": STATE.replace(b'"actor":null', b'"actor":' + INSTANT).replace(
        b'"occurred_at":' + OCCURRED, b'"occurred_at":null'
    ),
    "unknown type": STATE.replace(b"datetime_iso", b"nothing_iso", 1),
    "instant with a third key": STATE.replace(b'{"_type_"', b'{"x":1,"_type_"', 1),
    "instant not text": STATE.replace(b'"2024-01-04T22:00:00-07:00"', b"20240104"),
    "bad instant text": STATE.replace(b'"2024-01-04T22', b'"2024-13-04T22'),
    "instant missing": STATE.replace(b'"timestamp"', b'"timestamq"'),
    "not JSON": STATE[:-1],
    "outer registered object": b'{"_type_":"datetime_iso","_data_":"2024-01-01T00:00:00",'
    b'"timestamp":{"_type_":"datetime_iso","_data_":"2024-01-01T00:00:00"},'
    b'"occurred_at":{"_type_":"datetime_iso","_data_":"2024-01-01T00:00:00"}}',
    "a list": b"[1, 2]",
    "a number": b"12",
}
ACCEPTED = {
    "current state": STATE,
    "escaped brace in a string": STATE.replace(b'"u-1"', b'"u\\u007b1"'),
    "a date instant": STATE.replace(
        b'"datetime_iso","_data_":"2024-01-04T22:00:00-07:00"', b'"date_iso","_data_":"2024-01-04"'
    ),
}


@pytest.fixture(scope="module")
def transcoder(tmp_path_factory: pytest.TempPathFactory) -> OrjsonTranscoder:
    path: Path = tmp_path_factory.mktemp("flat") / "s.db"
    app = build_application(Settings(database_url=f"sqlite:///{path}"))
    found = app.mapper.transcoder
    app.close()
    assert isinstance(found, OrjsonTranscoder)
    return found


def typed(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: typed(v) for k, v in value.items()}
    return (type(value).__name__, value)


@pytest.mark.parametrize("data", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_a_flat_state_decodes_as_decode_decodes_it(
    transcoder: OrjsonTranscoder, data: bytes
) -> None:
    found = transcoder.decode_flat(data, INSTANTS)
    assert found is not None
    assert typed(found) == typed(transcoder.decode(data))
    assert list(found) == list(transcoder.decode(data))


def test_the_instants_are_the_registered_types(transcoder: OrjsonTranscoder) -> None:
    found = transcoder.decode_flat(ACCEPTED["a date instant"], INSTANTS)
    assert found is not None and found["occurred_at"] == date(2024, 1, 4)
    found = transcoder.decode_flat(STATE, INSTANTS)
    assert found is not None
    assert found["timestamp"] == datetime(2026, 11, 30, 21, 13, 37, 23987, tzinfo=UTC)


@pytest.mark.parametrize("data", DECLINED.values(), ids=DECLINED.keys())
def test_any_other_shape_is_declined(transcoder: OrjsonTranscoder, data: bytes) -> None:
    assert transcoder.decode_flat(data, INSTANTS) is None
