"""The bulk import routes a line by its top-level `patient_id` (services.bulk.importer), read
from the text when it can be: the same patient as a JSON parse of the line, or a line that
names no patient at the top (then its parse fails wherever it is routed, with the same
error)."""

from __future__ import annotations

import json
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from journey.errors import JourneyError
from services.bulk import importer
from services.importing import parse_entry
from tests.unit.test_bulk_lines import SESSION, json_values, session_lines


def _parsed(text: str) -> str | None:
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    found = document.get("patient_id") if isinstance(document, dict) else None
    return found if isinstance(found, str) else None


def same_patient(text: str) -> None:
    routed, parsed = importer._patient_id(text), _parsed(text)
    if routed != parsed:  # read from the text, the line names no patient at the top
        assert parsed is None and routed is not None
        assert isinstance(parse_entry(text, None), JourneyError)


@st.composite
def nested_lines(draw: st.DrawFn) -> str:
    """Session lines with `patient_id` moved, doubled, nested, escaped or spaced."""
    command: dict[str, Any] = dict(SESSION)
    pid = command.pop("patient_id")
    where = draw(st.sampled_from(["nested", "list", "twice", "value", "top", "gone"]))
    if where == "nested":
        command["extra"] = {"patient_id": draw(st.sampled_from([pid, "p-2"]))}
    elif where == "list":
        command["extra"] = [{"patient_id": "p-2"}, draw(json_values)]
    elif where == "value":
        command["note"] = "patient_id"
    if where in ("twice", "top", "nested", "value"):
        command["patient_id"] = pid
    text = json.dumps(command, ensure_ascii=draw(st.booleans()))
    if where == "twice":
        text = text[:-1] + ', "patient_id": ' + json.dumps(draw(st.sampled_from(["p-2", 5]))) + "}"
    space = draw(st.sampled_from(['"patient_id":"', '"patient_id" :\t"', '"patient_id":\n "']))
    text = text.replace('"patient_id": "', space)
    if draw(st.booleans()):
        text = text.replace(
            '"patient_id"', draw(st.sampled_from(['"patient\\u005fid"', '"patient_id"'])), 1
        )
    if draw(st.booleans()):
        text = "[" + text + "]"
    return text


@settings(max_examples=1000, deadline=None)
@given(session_lines() | nested_lines())
def test_a_line_is_routed_by_the_patient_it_names(text: str) -> None:
    same_patient(text)


def test_the_cohort_is_read_from_the_text(monkeypatch: Any) -> None:
    from tests.app.bulk_support import cohort_lines

    lines = cohort_lines(5)

    def parse(text: str) -> Any:
        raise AssertionError(f"parsed: {text}")

    monkeypatch.setattr(importer.orjson, "loads", parse)
    for line in lines:
        assert importer._patient_id(line) == json.loads(line)["patient_id"]
