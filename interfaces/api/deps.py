"""Dependencies of the routes: the application, path and query parameters, raw JSON bodies.

Bodies are read as raw JSON here and validated by `journey.commands.parse_command`, so the
HTTP API rejects exactly what the import path rejects, with the same messages."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from pydantic import AwareDatetime, BeforeValidator

from interfaces.timeparse import query_instant
from journey.application import JourneyApplication
from journey.errors import invalid
from journey.values import IDENTIFIER
from services.group_writer import GroupWriter

MAX_BATCH = 1000
# `+00:00` in an unencoded query string arrives as ` 00:00`: give the offset its sign back.
_LOST_PLUS = re.compile(r"^(.*T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$")


def get_application(request: Request) -> JourneyApplication:
    application = request.app.state.application
    assert isinstance(application, JourneyApplication)
    return application


def writer_of(request: Request) -> GroupWriter:
    writer = request.app.state.writer
    assert isinstance(writer, GroupWriter)
    return writer


async def _json(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise invalid("body", "json_invalid", f"the body is not valid JSON: {error}") from None
    except ValueError:  # an integer longer than Python converts (sys.get_int_max_str_digits)
        raise invalid(
            "body", "json_number_size", "a number in the body has too many digits"
        ) from None


async def json_object(request: Request) -> dict[str, Any]:
    body = await _json(request)
    if not isinstance(body, dict):
        raise invalid("body", "object_type", "the body must be a JSON object")
    return body


async def json_array(request: Request) -> list[Any]:
    body = await _json(request)
    if not isinstance(body, list):
        raise invalid("body", "list_type", "the body must be a JSON array of commands")
    if len(body) > MAX_BATCH:
        raise invalid(
            "body", "max_items", f"at most {MAX_BATCH} commands per request, got {len(body)}"
        )
    return body


def _instant(value: Any) -> Any:
    """An instant of the query string (`interfaces.timeparse`); `+00:00` sent unencoded
    arrives as ` 00:00`: its sign is given back first."""
    if isinstance(value, str) and (match := _LOST_PLUS.match(value)):
        value = f"{match[1]}+{match[2]}"
    return query_instant(value)


ApplicationDep = Annotated[JourneyApplication, Depends(get_application)]
JsonObject = Annotated[dict[str, Any], Depends(json_object)]
JsonArray = Annotated[list[Any], Depends(json_array)]
PatientId = Annotated[
    str, Path(pattern=IDENTIFIER, description="1-64 of A-Z a-z 0-9 . _ -", examples=["p-001"])
]
AsOf = Annotated[
    AwareDatetime | None,
    BeforeValidator(_instant),
    Query(description="the instant T (ISO-8601 with offset, 1990..2200); default now"),
]
KnownAt = Annotated[
    AwareDatetime | None,
    BeforeValidator(_instant),
    Query(description="only events recorded at or before K (ISO-8601 with offset, 1990..2200)"),
]
