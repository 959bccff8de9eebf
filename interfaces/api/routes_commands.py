"""Write endpoints: one resource endpoint per command of the registry
(`journey.commands.REGISTRY`: its resource path and summary), and the batch endpoint.

The resource endpoints are the busiest routes: each request solves only what it needs
(the body, the caller's role via `security.authorized`, with the key schemes' `security`
in each operation's `openapi_extra`), finds the group writer on the app, and answers with
the outcome's JSON as FastAPI would serialize its `OutcomeOut`."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response, status
from starlette.concurrency import run_in_threadpool

from audit.principals import Principal
from interfaces.api import openapi
from interfaces.api.deps import ApplicationDep, JsonArray, JsonObject, PatientId, writer_of
from interfaces.api.problems import problem_responses
from interfaces.api.schemas import BatchOut, OutcomeOut
from interfaces.api.security import SECURITY_REQUIREMENT, authorized, require
from interfaces.api.submit import submit, submit_batch
from journey.commands import REGISTRY
from journey.registry import CommandSpec
from journey.values import IDENTIFIER

Caller = Annotated[Principal, Depends(authorized("command"))]
PREFIX = "/v1"

router = APIRouter(prefix=PREFIX, tags=["commands"])

_DUPLICATE: dict[int | str, dict[str, Any]] = {
    status.HTTP_200_OK: {
        "model": OutcomeOut,
        "description": "Duplicate: the same command was already applied; nothing stored",
    }
}


def _endpoint(spec: CommandSpec[Any]) -> Callable[..., Awaitable[Response]]:
    """The endpoint of one command; the fields its path names (besides the patient) are
    parameters of its signature, so FastAPI reads and documents them."""

    async def endpoint(
        patient_id: PatientId,
        body: JsonObject,
        request: Request,
        caller: Caller,
        **path: str,
    ) -> Response:
        # one worker thread per request: it decides, then waits for its group's transaction
        routed = await run_in_threadpool(
            submit, writer_of(request), spec.name, patient_id, body, caller, path=path
        )
        return outcome_response(OutcomeOut.of(routed))

    signature = inspect.signature(endpoint)
    fixed = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
    routed = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[str, Path(pattern=IDENTIFIER, description=f"the {name}")],
        )
        for name in spec.path_fields
    ]
    endpoint.__signature__ = signature.replace(parameters=[*fixed, *routed])  # type: ignore[attr-defined]
    return endpoint


def outcome_response(outcome: OutcomeOut) -> Response:
    """The answer FastAPI gives for an `OutcomeOut` of the route (`response_model`): its
    JSON, 201 when stored, 200 for a duplicate."""
    code = status.HTTP_200_OK if outcome.status == "duplicate" else status.HTTP_201_CREATED
    return Response(outcome.model_dump_json().encode(), code, media_type="application/json")


for spec in REGISTRY.values():
    router.add_api_route(
        f"/patients/{{patient_id}}/{spec.resource}",
        _endpoint(spec),
        methods=["POST"],
        status_code=status.HTTP_201_CREATED,
        response_description="Accepted: one event stored",
        response_model=OutcomeOut,
        summary=spec.summary,
        operation_id=spec.name,
        responses={**_DUPLICATE, **problem_responses(401, 403, 404, 409, 410, 422)},
        openapi_extra={**openapi.body_ref(spec.name), "security": SECURITY_REQUIREMENT},
    )


@router.post(
    "/commands",
    response_model=BatchOut,
    summary="Apply an array of commands, each on its own, in order",
    operation_id="submit_commands",
    responses=problem_responses(401, 403, 422),
    openapi_extra=openapi.batch_body(),
)
def commands(
    body: JsonArray,
    application: ApplicationDep,
    request: Request,
    caller: Annotated[Principal, Depends(require("command"))],
) -> BatchOut:
    """One result per command: `accepted`, `duplicate` or `rejected` (with its problem).
    A rejected command stores nothing; the others are applied regardless."""
    return submit_batch(application, body, request.url.path, caller)
