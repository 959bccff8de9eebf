"""OpenAPI shapes of the request bodies, derived from the command models.

Requests are validated by `journey.commands.parse_command`, not by FastAPI, so the bodies are
described here: each full command as a component (`Admit`, ...) and each resource body as
the command minus `command` and `patient_id`, which come from the URL (`AdmitBody`, ...).
Catalog values are listed as enums (journey.values.CatalogValue), read from the catalog."""

from __future__ import annotations

import copy
from typing import Any

from interfaces.api.deps import MAX_BATCH
from interfaces.api.schemas import Problem
from journey.commands import COMMAND_TYPES, REGISTRY

REF = "#/components/schemas/{model}"
ROUTED_FIELDS = ("command", "patient_id")
JsonSchema = dict[str, Any]


def command_schema(command: str) -> JsonSchema:
    """The JSON schema of one full command, as in a `POST /v1/commands` array."""
    schema = COMMAND_TYPES[command].model_json_schema(ref_template=REF)
    schema["required"] = ["command", *schema.get("required", [])]
    return schema


def body_schema(command: str) -> JsonSchema:
    """The body of a resource endpoint: the command minus the fields the URL gives."""
    schema = copy.deepcopy(command_schema(command))
    routed = (*ROUTED_FIELDS, *REGISTRY[command].path_fields)
    for name in routed:
        schema["properties"].pop(name)
    schema["required"] = [f for f in schema["required"] if f not in routed]
    schema["title"] = f"{COMMAND_TYPES[command].__name__}Body"
    return schema


def model_name(command: str) -> str:
    return COMMAND_TYPES[command].__name__


def body_ref(command: str) -> dict[str, Any]:
    """`openapi_extra` of a resource endpoint: its request body."""
    ref = REF.format(model=f"{model_name(command)}Body")
    return _request_body({"$ref": ref})


def batch_body() -> dict[str, Any]:
    """`openapi_extra` of `POST /v1/commands`: an array of full commands."""
    refs = {name: REF.format(model=model_name(name)) for name in COMMAND_TYPES}
    items = {
        "oneOf": [{"$ref": ref} for ref in refs.values()],
        "discriminator": {"propertyName": "command", "mapping": refs},
    }
    return _request_body({"type": "array", "maxItems": MAX_BATCH, "items": items})


def _request_body(schema: JsonSchema) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def component_schemas() -> dict[str, JsonSchema]:
    """Schemas the routes refer to but FastAPI does not generate itself."""
    problem = Problem.model_json_schema(ref_template=REF)
    schemas: dict[str, JsonSchema] = {**problem.pop("$defs", {}), "Problem": problem}
    for command in COMMAND_TYPES:
        schemas[model_name(command)] = command_schema(command)
        schemas[f"{model_name(command)}Body"] = body_schema(command)
    return schemas
