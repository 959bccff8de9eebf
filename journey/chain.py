"""Tamper evidence for one patient's stream: every event carries `chain_hash`, the SHA-256
of the previous event's hash and of its own canonical content, so editing, deleting,
inserting or reordering a stored event breaks the chain at that place."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
NOT_CONTENT = frozenset({"originator_id", "originator_version", "originator_topic", "chain_hash"})


def _plain(value: Any) -> Any:
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value


def canonical_content(
    patient_id: str, version: int, event_type: str, schema_version: int, fields: dict[str, Any]
) -> bytes:
    """The bytes hashed for an event: identity, position, type, schema and every attribute
    (recording time, clinical time, actor, payload), in a fixed JSON form."""
    body = {k: _plain(v) for k, v in fields.items() if k not in NOT_CONTENT}
    head = {"patient_id": patient_id, "version": version, "type": event_type}
    return json.dumps(
        {**head, "schema_version": schema_version, "fields": body},
        sort_keys=True,
        separators=(",", ":"),
    ).encode()


def link(previous: str, content: bytes) -> str:
    """The chain hash of an event, given the previous event's (GENESIS for the first)."""
    return hashlib.sha256(previous.encode() + b"\n" + content).hexdigest()
