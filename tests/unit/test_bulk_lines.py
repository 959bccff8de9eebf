"""The bulk workers' parse of a line (`services.bulk.lines.parse_line`) gives exactly what
the plain path's `parse_entry` gives: the same command (type, values, fields set, actor
filled in) or the same error (class, fields, rules, message), on the cohort's lines and on
generated ones, valid or not; and a session line really takes the model's own validator."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from journey.commands import _ADAPTER
from journey.errors import JourneyError
from services.bulk import lines
from services.bulk.lines import FAST, parse_line
from services.importing import parse_entry
from tests.app.bulk_support import cohort_lines

SESSION: dict[str, Any] = {
    "command": "record_session",
    "patient_id": "p-1",
    "session_id": "s-0001",
    "format": "group",
    "approach": "counseling",
    "duration_minutes": 60,
    "occurred_at": "2026-05-06T14:15:00-07:00",
    "delivery": "video",
    "status": "attended",
    "clinician_id": "c-063",
    "actor": "clinician-63",
}
OPTIONAL = ("delivery", "status", "clinician_id", "actor")


def outcome(result: Any) -> tuple[Any, ...]:
    if isinstance(result, JourneyError):
        return ("error", type(result), str(result), tuple(result.issues))
    return (
        "command",
        type(result),
        repr(result),  # every value, its type and an instant's offset
        result.model_dump_json(),
        sorted(result.model_fields_set),
    )


def same(text: str, actor: str | None) -> None:
    assert outcome(parse_line(text, actor)) == outcome(parse_entry(text, actor))


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=70),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=5,
)
near = {  # values close to each field's rules, so both sides of a rule are reached
    "patient_id": st.from_regex(r"[A-Za-z0-9._\- \n]{0,66}", fullmatch=True),
    "session_id": st.from_regex(r"[A-Za-z0-9._\-é]{0,66}", fullmatch=True),
    "clinician_id": st.none() | st.from_regex(r"[A-Za-z0-9._\-]{0,66}\n?", fullmatch=True),
    "format": st.sampled_from(["group", "individual", "family", "Group", " group", ""]),
    "approach": st.sampled_from(["counseling", "cbt", "yoga", "telepathy", "CBT"]),
    "delivery": st.sampled_from(["video", "in_person", "audio", "fax", None]),
    "status": st.sampled_from(["attended", "no_show", "cancelled", "late", None]),
    "duration_minutes": st.sampled_from([0, 1, 60, 720, 721, -5, 60.0, "60", True, None]),
    "actor": st.none() | st.text(max_size=130) | st.just(""),
    "occurred_at": st.sampled_from(
        [
            "2026-05-06T14:15:00-07:00",
            "2026-05-06T14:15:00Z",
            "2026-05-06T14:15:00",  # no offset
            "2026-05-06 14:15:00+05:30",
            "2026-03-01T10:00:00+05:30:15",
            "2026-05-06T14:15:00.123456+00:00",
            "2026-05-06",
            "yesterday",
            "",
            1_700_000_000,
            None,
        ]
    ),
    "command": st.sampled_from(["record_session", "admit", "void_session", "RECORD_SESSION"]),
}


@st.composite
def session_lines(draw: st.DrawFn) -> str:
    command = dict(SESSION)
    for name in draw(st.lists(st.sampled_from(sorted(near)), max_size=4, unique=True)):
        command[name] = draw(near[name] | json_values)
    for name in draw(st.lists(st.sampled_from([*OPTIONAL, "command", "format"]), max_size=2)):
        command.pop(name, None)
    if draw(st.booleans()):
        command[draw(st.text(max_size=12))] = draw(json_values)  # unknown (or known) key
    text = json.dumps(command, ensure_ascii=draw(st.booleans()))
    if draw(st.integers(0, 9)) == 0:  # a key twice: the last one counts
        text = text[:-1] + ', "command": ' + json.dumps(draw(near["command"])) + "}"
    if draw(st.integers(0, 9)) == 0:
        cut = draw(st.integers(0, len(text)))
        text = text[:cut] + draw(st.sampled_from(["", "}", ",", " ", '"', "\\"])) + text[cut:]
    return text


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(session_lines(), st.sampled_from([None, "os:importer"]))
@example(json.dumps({k: v for k, v in SESSION.items() if k != "command"}), None)
@example(json.dumps({k: v for k, v in SESSION.items() if k != "actor"}), "os:importer")
def test_generated_lines_give_the_same_command_or_error(text: str, actor: str | None) -> None:
    same(text, actor)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80).map(lambda t: '{"command": "record_session", ' + t))
def test_broken_json_gives_the_same_error(text: str) -> None:
    same(text, None)


def test_cohort_lines_take_the_models_validator(monkeypatch: pytest.MonkeyPatch) -> None:
    """The differential tests would pass if every line went through the union: here the
    union is out of reach, and every session line of the cohort still parses."""
    cohort = cohort_lines(20)
    sessions = [line for line in cohort if '"record_session"' in line]
    assert FAST and len(sessions) > 0.8 * len(cohort)
    for line in cohort:
        same(line, "os:importer")

    def union(text: str, actor: str | None) -> Any:
        raise AssertionError(f"took the union: {text}")

    monkeypatch.setattr(lines, "parse_entry", union)
    for line in sessions:
        parse_line(line, "os:importer")


def test_the_guard_sees_a_union_that_no_longer_dispatches_to_the_model() -> None:
    schema = dict(_ADAPTER.core_schema)
    assert lines._dispatches_to_the_model(schema)
    other = dict(schema, choices=dict(schema["choices"]))
    other["choices"]["record_session"] = schema["choices"]["admit"]
    assert not lines._dispatches_to_the_model(other)
    assert not lines._dispatches_to_the_model(dict(schema, discriminator="kind"))
    assert not lines._dispatches_to_the_model(dict(schema, strict=True))
