"""`canonical_state` (snapshot digests, fact fingerprints) is one orjson pass that calls
back for instants only; it must write the very bytes of the walk it replaced, which
converted every nested instant to UTC before one `orjson.dumps` with sorted keys."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, NamedTuple

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journey import chain
from journey.chain import canonical_state


def _in_utc(value: Any) -> Any:  # the walk of 22dafb3
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, dict):
        return {k: _in_utc(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_in_utc(v) for v in value]
    return value


def reference(value: Any) -> bytes:
    return orjson.dumps(_in_utc(value), option=orjson.OPT_SORT_KEYS)


@dataclasses.dataclass
class Stay:
    level: str
    since: datetime


class Span(NamedTuple):
    start: datetime
    end: datetime | None


offsets = st.integers(min_value=-86_399, max_value=86_399).map(
    lambda s: timezone(timedelta(seconds=s))
)
instants = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=offsets | st.just(UTC)
)
leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text()
    | instants
    | st.dates()
    | st.times()
    | st.builds(Stay, st.text(), instants)
)
values = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner)
        | st.lists(inner).map(tuple)
        | st.builds(Span, instants, inner)
        | st.dictionaries(st.text(), inner)
    ),
    max_leaves=40,
)


@settings(max_examples=400, deadline=None)
@given(values)
def test_canonical_state_writes_the_bytes_of_the_walk(value: Any) -> None:
    assert canonical_state(value) == reference(value)


def test_instants_in_any_offset_are_written_in_utc() -> None:
    at = datetime(2026, 5, 6, 14, 15, 0, 250, tzinfo=timezone(timedelta(hours=-7)))
    state = {"b": [at, (at,)], "a": {"at": at}}
    expected = b'{"a":{"at":"2026-05-06T21:15:00.000250+00:00"},"b":["2026-05-06T21:15:00.000250+00:00",["2026-05-06T21:15:00.000250+00:00"]]}'
    assert canonical_state(state) == reference(state) == expected


def test_what_json_cannot_write_is_refused_as_before() -> None:
    for bad in ({1, 2}, {1: "non-text key"}, object(), Stay):
        with pytest.raises(orjson.JSONEncodeError):
            reference(bad)
        with pytest.raises(orjson.JSONEncodeError):
            canonical_state(bad)


def test_an_instant_utc_cannot_hold_overflows_as_before() -> None:
    edge = {"at": [datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5)))]}
    with pytest.raises(OverflowError):
        reference(edge)
    with pytest.raises(OverflowError):
        canonical_state(edge)


def test_only_instants_come_back_to_python(monkeypatch: pytest.MonkeyPatch) -> None:
    """The point of the change: a state of thousands of values calls back once per instant
    (the walk visited every value)."""
    calls: list[type] = []
    part = chain._canonical_part

    def counted(value: Any) -> Any:
        calls.append(type(value))
        return part(value)

    monkeypatch.setattr(chain, "_canonical_part", counted)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    sessions = {f"s-{n}": {"occurred_at": at, "minutes": n, "notes": None} for n in range(500)}
    canonical_state({"sessions": sessions, "episodes": [[at, None]]})
    assert calls == [datetime] * 501
