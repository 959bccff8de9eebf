"""The committed contract (contracts/) matches the generator and the official AsyncAPI 3.0.0
JSON Schema (tests/kafka/asyncapi-3.0.0.schema.json, see tests/kafka/README.md); records
the relay builds validate against the committed JSON Schemas. No broker needed."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator, Draft202012Validator
from publishing.contracts import ROOT, event_versions, rendered, retired
from publishing.contracts_draft07 import FORMAT_DRAFT_07, to_draft_07
from publishing.history_cache import HistoryCache
from publishing.relay_batch import build_batch
from publishing.topics import TopicNames

from journey.application import JourneyApplication
from journey.commands import parse_command
from journey.envelopes import to_envelope
from tests.app.test_care_program import PROGRAM
from tests.kafka.helpers import cohort_lines, load

pytestmark = [pytest.mark.kafka, pytest.mark.xdist_group("kafka")]
OFFICIAL = Path(__file__).with_name("asyncapi-3.0.0.schema.json")


def committed(relative: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((ROOT / relative).read_text(encoding="utf-8"))
    return loaded


def test_committed_contract_is_what_the_generator_produces() -> None:
    expected = rendered()
    on_disk = {str(p.relative_to(ROOT)) for p in ROOT.rglob("*.json")}
    assert on_disk == set(expected) | retired(), "run: python -m publishing.contracts"
    for relative, text in expected.items():
        assert (ROOT / relative).read_text(encoding="utf-8") == text, (
            f"contracts/{relative} drifted; run: python -m publishing.contracts"
        )


def test_schemas_published_by_earlier_versions_are_kept() -> None:
    """Records on the topic name their schema in ce_dataschema: the version 1 event schemas
    published before `recorded_by` (v2) and `asam_code` (v3) stay, as they were."""
    kept = retired()
    for name in ("PatientAdmitted", "LevelOfCareChanged", "SessionRecorded",
                 "SessionCorrected", "SessionEnteredInError", "PatientDischarged"):  # fmt: skip
        assert f"schemas/{name}.v1.json" in kept
    assert "recorded_by" not in committed("schemas/SessionRecorded.v1.json")["properties"]


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
    current = [p for p in paths if str(p.relative_to(ROOT)) not in retired()]
    events = {f"{n}.v{v}.json" for n, v in event_versions().items()}
    assert events <= {p.name for p in current}  # one per event of the registry's commands
    assert len(current) == 3 + len(events)  # and the envelope, the summary, the anchor head
    for path in paths:
        Draft202012Validator.check_schema(json.loads(path.read_text(encoding="utf-8")))


def test_relay_records_validate_against_the_committed_schemas(
    make_app: Callable[..., JourneyApplication],
) -> None:
    app = make_app()
    load(app, cohort_lines(300, patients=8))
    program = [parse_command({**raw, "patient_id": "p-program"}) for raw in PROGRAM]
    app.handle_many(program, atomic=True, now=datetime(2026, 6, 1, tzinfo=UTC))
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
    summary_07 = Draft7Validator(committed("schemas/draft-07/JourneySummary.v1.json"))
    published = {json.loads(o.record.value).get("payload", {}).get("type") for o in batch.records}
    assert set(event_versions()) <= published  # every event type, the program's included
    for out in batch.records:
        value = json.loads(out.record.value)
        if out.topic == "s":
            summary.validate(value)
            summary_07.validate(value)
            continue
        envelope.validate(value)
        headers = dict(out.record.headers)
        name = value["payload"]["type"]
        schema = f"{name}.v{event_versions()[name]}.json"
        Draft202012Validator(committed(f"schemas/{schema}")).validate(value)
        Draft7Validator(committed(f"schemas/draft-07/{schema}")).validate(value)
        assert headers["ce_dataschema"].decode().endswith(f"/{schema}")


def test_servers_describe_deployments_not_a_dev_address() -> None:
    servers = committed("asyncapi.json")["servers"]
    assert servers
    for name, server in servers.items():
        host = server["host"]
        assert not re.search(r"127\.0\.0\.1|localhost|19092", host), (name, host)
        assert server["description"]
        placeholders = set(re.findall(r"\{(\w+)\}", host))
        assert placeholders, f"{name}: a fixed address instead of the deployment's own"
        assert placeholders == set(server.get("variables", {})), name


def test_payloads_declare_draft_07_and_their_schemas_are_draft_07() -> None:
    """draft-07 is the payload format every AsyncAPI 3.0 tool must support."""
    document = committed("asyncapi.json")
    for message in document["components"]["messages"].values():
        payload = message["payload"]
        assert payload["schemaFormat"] == FORMAT_DRAFT_07
        schema = committed(payload["schema"]["$ref"])
        assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
        Draft7Validator.check_schema(schema)
        assert "$defs" not in json.dumps(schema)


def test_draft_07_conversion_refuses_what_draft_07_cannot_say() -> None:
    with pytest.raises(ValueError, match="prefixItems"):
        to_draft_07({"type": "array", "prefixItems": [{"type": "string"}]}, "x")
    converted = to_draft_07(
        {
            "$defs": {"A": {"type": "string"}},
            "properties": {"a": {"$ref": "#/$defs/A", "default": "x"}},
        },
        "x",
    )
    assert converted["properties"]["a"] == {"allOf": [{"$ref": "#/definitions/A"}], "default": "x"}
    assert Draft7Validator(converted).is_valid({"a": "s"})
    assert not Draft7Validator(converted).is_valid({"a": 1})
