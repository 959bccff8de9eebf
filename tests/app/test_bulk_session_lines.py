"""A `record_session` line taken straight to its stored row (`services.bulk.session_lines`,
the bulk workers' step) gives what the reference path gives (the line parsed into a command,
decided by `SessionDecisions` or the application, its event encoded): the same stored rows to
the byte (chain hashes and recording times included), the same anchors over them, the same
snapshots, the same outcome of every line (accepted, duplicate, or the error naming the field
and the rule) and the same aggregates afterwards, on generated histories of valid, odd and
rejected lines. And the straight step was taken for every valid session the reference
accepted (the comparison would pass if it silently fell back)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.anchors import anchor_rows
from journey.application import JourneyApplication
from services.bulk import session_lines
from services.bulk.decide import Decider, PatientBatch
from services.bulk.importer import _route
from services.bulk.workers import LinesTask
from tests.app.bulk_support import NOW, cohort_lines
from tests.unit.test_bulk_lines import near
from tests.unit.test_bulk_lines import session_lines as odd_session_lines

EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)  # the settings' default earliest clinical instant
ADMITTED = datetime(2025, 1, 1, tzinfo=UTC)
IDENTIFIERS = st.from_regex(r"[A-Za-z0-9._-]{1,8}", fullmatch=True)
NEAR = {  # values on both sides of each field's rules (patient ids: known or not)
    **{name: values for name, values in near.items() if name != "patient_id"},
    "patient_id": st.sampled_from(["p-1", "p-2", "p-3", "p-1 ", ""]),
    "duration_minutes": st.sampled_from([0, 1, 720, 721, 60.0, True, "60", None, 2**64]),
    "actor": st.sampled_from([None, "", "a", "é" * 128, "é" * 129, "x" * 129]) | st.text(),
    "session_id": st.sampled_from(["s", "s" * 64, "s" * 65, "s\n", "s-é", "", None, 7]),
}
OFFSETS = st.sampled_from(["+00:00", "Z", "-08:00", "+05:30", "+14:00", "+05:30:15", "-00:00:01"])


def _admit(pid: str, at: str = "2025-01-01T00:00:00+00:00", **more: Any) -> str:
    return json.dumps(
        {"command": "admit", "patient_id": pid, "occurred_at": at, "level": "outpatient", **more}
    )


@st.composite
def _instant(draw: st.DrawFn, start: datetime, end: datetime) -> str:
    """An ISO-8601 instant in [start, end], in an offset, with or without microseconds."""
    seconds = draw(st.integers(0, int((end - start).total_seconds())))
    at = start + timedelta(seconds=seconds, microseconds=draw(st.sampled_from([0, 1, 123456])))
    offset = draw(OFFSETS)
    text = at.replace(tzinfo=None).isoformat()
    if offset == "Z":
        return text + "Z"
    sign, rest = (1 if offset[0] == "+" else -1), offset[1:].split(":")
    delta = sign * timedelta(
        hours=int(rest[0]), minutes=int(rest[1]), seconds=int(rest[2]) if len(rest) > 2 else 0
    )
    local = at + delta
    if local.year < 1 or local.year > 9998:
        return text + "+00:00"
    return local.replace(tzinfo=None).isoformat() + offset


@st.composite
def _session(draw: st.DrawFn, pid: str, session_id: str) -> dict[str, Any]:
    """A valid `record_session` command (optional fields given or left out)."""
    command: dict[str, Any] = {
        "command": "record_session",
        "patient_id": pid,
        "session_id": session_id,
        "format": draw(st.sampled_from(["individual", "group", "family"])),
        "approach": draw(st.sampled_from(["cbt", "counseling", "yoga"])),
        "duration_minutes": draw(st.sampled_from([1, 50, 720])),
        "occurred_at": draw(_instant(ADMITTED, NOW + timedelta(minutes=4))),
    }
    optional = {
        "delivery": st.sampled_from(["in_person", "video", "audio"]),
        "status": st.sampled_from(["attended", "no_show", "cancelled"]),
        "clinician_id": st.none() | IDENTIFIERS,
        "actor": st.none() | st.text(min_size=1, max_size=128),
    }
    for name, values in optional.items():
        if draw(st.booleans()):
            command[name] = draw(values)
    keys = list(command)
    if draw(st.booleans()):  # any key order
        keys = draw(st.permutations(keys))
    return {k: command[k] for k in keys}


@st.composite
def _histories(draw: st.DrawFn) -> tuple[list[str], set[int]]:
    """Lines of two patients (the second admitted later, or never), and the numbers of the
    valid session lines among them (numbered from 1)."""
    lines = [_admit("p-1")]
    clean: set[int] = set()
    sessions: list[dict[str, Any]] = []
    for step in range(draw(st.integers(1, 30))):
        pid = draw(st.sampled_from(["p-1", "p-1", "p-2"]))
        kind = draw(
            st.sampled_from(
                ["clean"] * 6 + ["near"] * 4 + ["odd", "retry", "clash", "other", "far"]
            )
        )
        if kind == "clean" or (kind in ("retry", "clash") and not sessions):
            command = draw(_session(pid, f"s-{step}"))
            sessions.append(command)
            text = json.dumps(command, ensure_ascii=draw(st.booleans()))
            clean.add(len(lines) + 1)
        elif kind == "near":  # a valid session with one field near (or past) its rules
            command = draw(_session(pid, f"n-{step}"))
            name = draw(st.sampled_from(sorted(NEAR)))
            command[name] = draw(NEAR[name])
            text = json.dumps(command, ensure_ascii=draw(st.booleans()))
            if draw(st.integers(0, 4)) == 0:  # a key twice (the last counts), or one unknown
                extra = draw(st.sampled_from([*NEAR, "note"]))
                value = draw(NEAR.get(extra, st.just("x")))
                text = text[:-1] + f", {json.dumps(extra)}: {json.dumps(value)}}}"
        elif kind == "odd":  # any odd line (tests/unit/test_bulk_lines.py)
            text = draw(odd_session_lines())
        elif kind == "retry":  # the same session again, maybe in another offset or order
            text = json.dumps(draw(st.sampled_from(sessions)))
        elif kind == "clash":
            text = json.dumps({**draw(st.sampled_from(sessions)), "duration_minutes": 7})
        elif kind == "far":  # before admission, before the earliest instant, in the future
            at = draw(st.sampled_from(["2024-06-01T00:00:00Z", "1980-01-01T00:00:00Z"]))
            at = draw(
                st.sampled_from([at, "2030-01-01T00:00:00+00:00", "9999-12-31T23:00:00-05:00"])
            )
            text = json.dumps({**draw(_session(pid, f"f-{step}")), "occurred_at": at})
        else:
            text = draw(
                st.sampled_from(
                    [
                        _admit("p-2", "2025-02-01T00:00:00-05:00"),
                        json.dumps(
                            {
                                "command": "discharge",
                                "patient_id": pid,
                                "occurred_at": "2026-06-01T00:00:00+02:00",
                                "reason": "completed",
                            }
                        ),
                        _admit(pid, "2026-07-01T00:00:00Z"),
                        json.dumps(
                            {
                                "command": "void_session",
                                "patient_id": pid,
                                "session_id": f"s-{step - 1}",
                                "reason": "entered in error",
                            }
                        ),
                    ]
                )
            )
        lines.append(text)
    return lines, clean


def _decide(
    app: JourneyApplication,
    lines: list[str],
    *,
    straight: bool,
    actor: str | None,
    by: str | None,
    parts: int = 2,
) -> tuple[list[PatientBatch], Decider]:
    """The lines routed as the importer routes them and decided in `parts` chunks."""
    decider = Decider(app, NOW, load_existing=False, keep=100, recorded_by=by)
    decider.fast = decider.fast and straight
    numbered = list(enumerate(lines, start=1))
    size = max(1, -(-len(numbered) // parts))
    batches: list[PatientBatch] = []
    for start in range(0, len(numbered), size):
        _, (task,) = _route(numbered[start : start + size], actor, 1)  # unreadable lines out
        assert isinstance(task, LinesTask)
        batches += decider.decide_lines(task.lines, actor)
    return batches, decider


def _state(decider: Decider) -> dict[str, Any]:
    return {
        pid: {k: v for k, v in patient.__dict__.items() if k != "_pending_events"}
        for pid, patient in decider.kept.items()
    }


def _compare(app: JourneyApplication, lines: list[str], actor: str | None, by: str | None) -> int:
    """Compares both paths on the lines; returns how many rows the straight step made. The
    straight step runs twice: with the compiled byte writing where it is built, and with
    `_written` alone, as on a machine without a C compiler."""
    fast, straight = _decide(app, lines, straight=True, actor=actor, by=by)
    with patch.object(session_lines, "compiled_step", None):
        in_python, python_only = _decide(app, lines, straight=True, actor=actor, by=by)
    assert python_only.lines is not None and python_only.lines.step is None
    slow, reference = _decide(app, lines, straight=False, actor=actor, by=by)
    assert reference.lines is None and straight.lines is not None
    assert fast == in_python == slow  # rows, snapshots, accepted counts, other outcomes
    rows = [row for batch in fast for row in batch.events]
    positions = range(1, len(rows) + 1)
    assert anchor_rows(None, positions, rows) == anchor_rows(
        None, positions, [row for batch in slow for row in batch.events]
    )
    assert _state(straight) == _state(reference)
    return straight.lines.taken


@pytest.mark.usefixtures("frozen_clock")
@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(_histories(), st.sampled_from([None, "os:importer"]), st.sampled_from([None, "k:ops"]))
def test_generated_histories_store_the_reference_paths_rows(
    app: JourneyApplication,  # one per test: the examples decide, and store nothing
    history: tuple[list[str], set[int]],
    actor: str | None,
    by: str | None,
) -> None:
    lines, clean = history
    taken = _compare(app, lines, actor, by)
    slow, _ = _decide(app, lines, straight=False, actor=actor, by=by)
    settled = {number for batch in slow for number, _ in batch.others}
    sessions = {n for n, line in enumerate(lines, 1) if '"record_session"' in line} - settled
    # every valid session accepted took the straight step (an odd line may be valid too)
    assert len(clean - settled) <= taken <= len(sessions)


@pytest.mark.usefixtures("frozen_clock")
def test_the_cohort_with_snapshots_stores_the_reference_paths_rows(
    make_app: Callable[..., JourneyApplication],
) -> None:
    app = make_app()
    lines = cohort_lines(30)
    sessions = sum('"record_session"' in line for line in lines)
    fast, _ = _decide(app, lines, straight=True, actor=None, by="os:importer", parts=4)
    assert any(batch.snapshots for batch in fast)  # patients past 200 events
    assert _compare(app, lines, None, "os:importer") == sessions > 0.8 * len(lines)


def test_the_guard_sees_a_model_that_validates_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    """`SHAPE` holds for the model as it is, and not for one whose rules differ."""
    assert session_lines.SHAPE and session_lines._declared()
    declared = dict(session_lines._DECLARED)
    declared["duration_minutes"] = {"type": "integer", "minimum": 0, "maximum": 720}
    monkeypatch.setattr(session_lines, "_DECLARED", declared)
    assert not session_lines._declared()


@pytest.mark.usefixtures("frozen_clock")
def test_an_instant_at_the_edge_of_utc_goes_to_the_reference_path(
    make_app: Callable[..., JourneyApplication],
) -> None:
    app = make_app()
    far = datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5))).isoformat()
    session = {
        "command": "record_session",
        "patient_id": "p-1",
        "session_id": "s-1",
        "format": "group",
        "approach": "cbt",
        "duration_minutes": 50,
        "occurred_at": far,
    }
    lines = [_admit("p-1"), json.dumps(session)]
    assert _compare(app, lines, None, None) == 0
    batches, _ = _decide(app, lines, straight=True, actor=None, by=None, parts=1)
    assert [number for batch in batches for number, _ in batch.others] == [2]  # rejected


BOUNDARIES: dict[str, list[Any]] = {  # each field's values on both sides of its rules
    "command": ["record_session", "admit", "RECORD_SESSION", None],
    "patient_id": ["p-1", "p-2", "p-1 ", "", None, 1],
    "session_id": ["s", "s" * 64, "s" * 65, "s\n", "s-é", "", None, 7, ["s"]],
    "format": ["group", "Group", " group", "", None, ["group"], {"a": 1}],
    "approach": ["cbt", "CBT", "telepathy", 1],
    "duration_minutes": [0, 1, 720, 721, -5, 60.0, True, "60", None, 2**64, [60]],
    "occurred_at": [
        "2026-05-06T14:15:00-07:00",
        "2026-05-06T14:15:00Z",
        "2026-05-06T14:15:00",
        "2026-05-06 14:15:00+05:30",
        "2026-03-01T10:00:00+05:30:15",
        "2026-05-06T14:15:00.123456+00:00",
        "2026-05-06",
        "yesterday",
        1_700_000_000,
        None,
        ["2026-05-06T14:15:00Z"],
    ],
    "delivery": ["video", "in_person", "audio", "fax", None, 1],
    "status": ["attended", "no_show", "cancelled", "late", None],
    "clinician_id": [None, "c-1", "c" * 64, "c" * 65, "c\n", "", 5],
    "actor": [None, "", "a", "é" * 128, "é" * 129, "x" * 129, 5, ["a"]],
}


@pytest.mark.usefixtures("frozen_clock")
@pytest.mark.parametrize("actor", [None, "os:importer"])
def test_each_rule_on_both_sides_of_it(
    make_app: Callable[..., JourneyApplication], actor: str | None
) -> None:
    """Every field of a valid session, set in turn to each value of BOUNDARIES (given, then
    given twice: the last counts), or left out when optional."""
    app = make_app()
    valid = {
        "command": "record_session",
        "patient_id": "p-1",
        "format": "group",
        "approach": "cbt",
        "duration_minutes": 50,
        "occurred_at": "2025-06-01T10:00:00+02:00",
    }
    lines, n = [_admit("p-1")], 0
    for name, values in BOUNDARIES.items():
        for value in [*values, "left out"]:
            n += 1
            command = {**valid, "session_id": f"s-{n}", name: value}
            if value == "left out":
                del command[name]
            lines.append(json.dumps(command))
            twice = json.dumps({**valid, "session_id": f"t-{n}", name: "x"})
            lines.append(f"{twice[:-1]}, {json.dumps(name)}: {json.dumps(command.get(name))}}}")
    taken = _compare(app, lines, actor, "k:ops")
    assert 10 < taken < len(lines) - 10  # both paths taken, each where it should
