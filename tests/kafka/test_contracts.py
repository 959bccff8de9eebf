"""The committed contract (contracts/) matches the generator and the official AsyncAPI 3.0.0
JSON Schema (tests/kafka/asyncapi-3.0.0.schema.json, see tests/kafka/README.md); records
the relay builds validate against the committed JSON Schemas. No broker needed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator, Draft202012Validator

from consumers.contracts import ROOT, rendered
from consumers.histories import HistoryCache
from consumers.relay_batch import build_batch
from consumers.topics import TopicNames
from journey.application import JourneyApplication
from journey.envelopes import to_envelope
from tests.kafka.helpers import cohort_lines, load

pytestmark = [pytest.mark.kafka, pytest.mark.xdist_group("kafka")]
OFFICIAL = Path(__file__).with_name("asyncapi-3.0.0.schema.json")


def committed(relative: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((ROOT / relative).read_text(encoding="utf-8"))
    return loaded


def test_committed_contract_is_what_the_generator_produces() -> None:
    expected = rendered()
    on_disk = {str(p.relative_to(ROOT)) for p in ROOT.rglob("*.json")}
    assert on_disk == set(expected), "run: python -m consumers.contracts"
    for relative, text in expected.items():
        assert (ROOT / relative).read_text(encoding="utf-8") == text, (
            f"contracts/{relative} drifted; run: python -m consumers.contracts"
        )


def test_asyncapi_document_is_valid_asyncapi_3() -> None:
    official = json.loads(OFFICIAL.read_text(encoding="utf-8"))
    Draft7Validator.check_schema(official)
    document = committed("asyncapi.json")
    errors = sorted(Draft7Validator(official).iter_errors(document), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
    for message in document["components"]["messages"].values():
        target = message["payload"]["schema"]["$ref"]
        assert (ROOT / target).is_file(), target


def test_schemas_are_valid_2020_12() -> None:
    paths = sorted((ROOT / "schemas").glob("*.json"))
    assert len(paths) == 9  # the envelope, the summary, the anchor head and one per event
    for path in paths:
        Draft202012Validator.check_schema(json.loads(path.read_text(encoding="utf-8")))


def test_relay_records_validate_against_the_committed_schemas(
    make_app: Callable[..., JourneyApplication],
) -> None:
    app = make_app()
    load(app, cohort_lines(300, patients=8))
    notifications = app.recorder.select_notifications(start=1, limit=1000)
    histories = HistoryCache(lambda pid, v: [to_envelope(e) for e in app.events.get(pid, lte=v)])  # type: ignore[arg-type]
    batch = build_batch(
        notifications,
        lambda n: to_envelope(app.mapper.to_domain_event(n)),  # type: ignore[arg-type]
        histories,
        TopicNames("e", "s"),
    )
    envelope = Draft202012Validator(committed("schemas/EventEnvelope.v1.json"))
    summary = Draft202012Validator(committed("schemas/JourneySummary.v1.json"))
    for out in batch.records:
        value = json.loads(out.record.value)
        if out.topic == "s":
            summary.validate(value)
            continue
        envelope.validate(value)
        headers = dict(out.record.headers)
        name = value["payload"]["type"]
        Draft202012Validator(committed(f"schemas/{name}.v1.json")).validate(value)
        assert headers["ce_dataschema"].decode().endswith(f"/{name}.v1.json")
