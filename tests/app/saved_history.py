"""Histories saved by earlier versions as the current one writes them: the same instants,
written with `+00:00` for UTC instead of the `Z` pydantic wrote before (one output format
for instants everywhere, journey.values.Instant)."""

from __future__ import annotations

from typing import Any

INSTANTS = ("occurred_at", "recorded_at", "session_occurred_at")


def _offset(value: Any) -> Any:
    return f"{value[:-1]}+00:00" if isinstance(value, str) and value.endswith("Z") else value


def written_now(event: dict[str, Any]) -> dict[str, Any]:
    payload = {k: _offset(v) if k in INSTANTS else v for k, v in event["payload"].items()}
    return {**{k: _offset(v) if k in INSTANTS else v for k, v in event.items()}, "payload": payload}
