"""Generates the topic contract under contracts/: `python -m publishing.contracts`.

- contracts/schemas/EventEnvelope.v1.json: a record value of the events topic (any event);
- contracts/schemas/<EventName>.v<N>.json: the envelope carrying that event's payload (the
  `ce_dataschema` of its records);
- contracts/schemas/JourneySummary.v1.json: a record value of the state topic;
- contracts/schemas/AnchorHead.v1.json: a record value of the anchors topic;
- contracts/schemas/draft-07/*.json: the same schemas in JSON Schema draft-07, the payload
  format every AsyncAPI 3.0 tool must read (publishing/contracts_draft07.py);
- contracts/asyncapi.json: AsyncAPI 3.0.0 for the three topics (payloads reference the
  draft-07 files with `schemaFormat: application/schema+json;version=draft-07`).
Everything derives from the pydantic models, so a test can compare the committed files
with a fresh generation. Event schemas describe what is published (pydantic's serialization
mode): every field is present, defaults included."""

from __future__ import annotations

import copy
import json
import re
import sys
from pathlib import Path
from typing import Any

from publishing.anchor_head import HEAD_TYPE, HEAD_VERSION, AnchorHead
from publishing.asyncapi import asyncapi_document
from publishing.cloudevents import SCHEMA_BASE
from publishing.contracts_draft07 import DIRECTORY, to_draft_07
from publishing.state_summary import SUMMARY_TYPE, SUMMARY_VERSION, JourneySummary

from journey.commands import REGISTRY
from journey.events import EVENT_NAMES, EventEnvelope

ROOT = Path(__file__).resolve().parent.parent / "contracts"
DRAFT = "https://json-schema.org/draft/2020-12/schema"
ENVELOPE = "EventEnvelope"


def event_versions() -> dict[str, int]:
    """Schema version of each event (the stored event's class_version), in the order of
    the payload union (journey.events), from the events the registry's commands record."""
    stored = {e.__name__: e for spec in REGISTRY.values() for e in spec.records}
    return {name: stored[name].class_version for name in EVENT_NAMES}


def _with_id(schema: dict[str, Any], file_name: str) -> dict[str, Any]:
    return {"$schema": DRAFT, "$id": f"{SCHEMA_BASE}/{file_name}", **schema}


def _referenced(name: str, definitions: dict[str, Any]) -> dict[str, Any]:
    """The definition `name` and every definition it refers to, at any depth."""
    kept: dict[str, Any] = {}
    pending = [name]
    while pending:
        current = pending.pop()
        if current not in kept:
            kept[current] = definitions[current]
            pending += re.findall(r'"#/\$defs/(\w+)"', json.dumps(definitions[current]))
    return {key: kept[key] for key in definitions if key in kept}


def event_schema(name: str, envelope: dict[str, Any]) -> dict[str, Any]:
    """The envelope schema with its payload narrowed to the one event type (and the
    definitions its payload uses: a plan's goals and objectives)."""
    schema = copy.deepcopy(envelope)
    schema["title"] = f"{name} event"
    schema["$defs"] = _referenced(name, schema["$defs"])
    schema["properties"]["payload"] = {"$ref": f"#/$defs/{name}"}
    return schema


def schema_files() -> dict[str, dict[str, Any]]:
    """File name under contracts/schemas -> JSON Schema."""
    envelope = EventEnvelope.model_json_schema(mode="serialization")
    files = {f"{ENVELOPE}.v1.json": envelope}
    for name, version in event_versions().items():
        files[f"{name}.v{version}.json"] = event_schema(name, envelope)
    files[f"{SUMMARY_TYPE}.v{SUMMARY_VERSION}.json"] = JourneySummary.model_json_schema()
    files[f"{HEAD_TYPE}.v{HEAD_VERSION}.json"] = AnchorHead.model_json_schema()
    return {file: _with_id(schema, file) for file, schema in files.items()}


def rendered() -> dict[str, str]:
    """Path relative to contracts/ -> file text, exactly as committed."""
    versions = event_versions()
    schemas = schema_files()
    files = {f"schemas/{n}": _dump(s) for n, s in schemas.items()}
    for name, schema in schemas.items():
        draft_07 = to_draft_07(schema, f"{SCHEMA_BASE}/draft-07/{name}")
        files[f"{DIRECTORY}/{name}"] = _dump(draft_07)
    files["asyncapi.json"] = _dump(asyncapi_document(versions, SUMMARY_VERSION))
    return files


def _dump(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


_VERSIONED = re.compile(r"^schemas/(?P<name>\w+)\.v(?P<version>\d+)\.json$")


def retired(root: Path = ROOT) -> set[str]:
    """Schema files of earlier versions of a payload (`schemas/<Name>.v<k>.json` with k below
    the current version): records published then name them in `ce_dataschema`, and stay on
    the topic, so they are kept as committed and never regenerated or removed."""
    current: dict[str, int] = {}
    for relative in rendered():
        if found := _VERSIONED.match(relative):
            current[found["name"]] = int(found["version"])
    kept = set()
    for path in (root / "schemas").glob("*.json"):
        relative = str(path.relative_to(root))
        found = _VERSIONED.match(relative)
        if found and int(found["version"]) < current.get(found["name"], 0):
            kept.add(relative)
    return kept


def write(root: Path = ROOT) -> list[Path]:
    """Rewrites contracts/ (stale schema files removed, retired versions kept); returns the
    files written."""
    files = rendered()
    keep = retired(root)
    (root / DIRECTORY).mkdir(parents=True, exist_ok=True)
    for stale in (root / "schemas").rglob("*.json"):
        relative = str(stale.relative_to(root))
        if relative not in files and relative not in keep:
            stale.unlink()
    written = []
    for relative, text in files.items():
        path = root / relative
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write():
        sys.stdout.write(f"wrote {path}\n")
