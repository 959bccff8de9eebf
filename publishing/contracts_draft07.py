"""Draft-07 copies of the payload schemas, for the AsyncAPI document.

pydantic emits JSON Schema 2020-12; AsyncAPI 3.0 tools MUST support draft-07 payloads
(`application/schema+json;version=draft-07`) and need not support 2020-12. Our schemas use
only keywords the two drafts share, except `$defs` (draft-07: `definitions`) and the
annotations beside a `$ref` (ignored by draft-07, so they are kept through `allOf`). Any
2020-12-only keyword stops the generation instead of producing a schema that means less."""

from __future__ import annotations

import copy
from typing import Any

DRAFT_07 = "http://json-schema.org/draft-07/schema#"
FORMAT_DRAFT_07 = "application/schema+json;version=draft-07"
DIRECTORY = "schemas/draft-07"
ONLY_2020_12 = frozenset(
    {
        "prefixItems",
        "unevaluatedItems",
        "unevaluatedProperties",
        "dependentSchemas",
        "dependentRequired",
        "$dynamicRef",
        "$dynamicAnchor",
        "$anchor",
        "$recursiveRef",
        "minContains",
        "maxContains",
    }
)


def to_draft_07(schema: dict[str, Any], schema_id: str) -> dict[str, Any]:
    """The same schema in draft-07 terms, with its own `$schema` and `$id`."""
    body = {k: v for k, v in copy.deepcopy(schema).items() if k not in ("$schema", "$id")}
    converted = _convert(body, "#")
    return {"$schema": DRAFT_07, "$id": schema_id, **converted}


def _convert(node: Any, where: str) -> Any:
    if isinstance(node, list):
        return [_convert(item, f"{where}/{i}") for i, item in enumerate(node)]
    if not isinstance(node, dict):
        return node
    found = ONLY_2020_12.intersection(node)
    if found:
        raise ValueError(f"{where}: {sorted(found)} has no draft-07 equivalent")
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$defs":
            out["definitions"] = {n: _convert(s, f"{where}/$defs/{n}") for n, s in value.items()}
        elif key == "$ref":
            out[key] = value.replace("#/$defs/", "#/definitions/")
        elif key == "mapping":  # discriminator mapping: $ref strings
            out[key] = {n: v.replace("#/$defs/", "#/definitions/") for n, v in value.items()}
        elif key in ("properties", "definitions"):
            out[key] = {n: _convert(s, f"{where}/{key}/{n}") for n, s in value.items()}
        else:
            out[key] = _convert(value, f"{where}/{key}")
    if "$ref" in out and len(out) > 1:  # draft-07 ignores every keyword beside a $ref
        ref = out.pop("$ref")
        out = {"allOf": [{"$ref": ref}], **out}
    return out
