"""Write endpoints: one resource endpoint per command, and the batch endpoint."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status

from audit.principals import Principal
from interfaces.api import openapi
from interfaces.api.deps import ApplicationDep, JsonArray, JsonObject, PatientId
from interfaces.api.problems import problem_responses
from interfaces.api.schemas import BatchOut, OutcomeOut
from interfaces.api.security import require
from interfaces.api.submit import submit, submit_batch

Caller = Annotated[Principal, Depends(require("command"))]

router = APIRouter(prefix="/v1", tags=["commands"])

# (path segment, command, summary)
RESOURCES = (
    ("admissions", "admit", "Admit the patient (opens an episode)"),
    ("transitions", "transition", "Move the patient to another level of care"),
    ("sessions", "record_session", "Record a therapy session (retries are safe)"),
    ("session-corrections", "correct_session", "Correct fields of a recorded session"),
    ("session-voids", "void_session", "Void a session entered in error"),
    ("discharges", "discharge", "Discharge the patient (closes the episode)"),
)
_DUPLICATE: dict[int | str, dict[str, Any]] = {
    status.HTTP_200_OK: {
        "model": OutcomeOut,
        "description": "Duplicate: the same command was already applied; nothing stored",
    }
}


def _endpoint(command: str) -> Callable[..., OutcomeOut]:
    def endpoint(
        patient_id: PatientId,
        body: JsonObject,
        application: ApplicationDep,
        response: Response,
        caller: Caller,
    ) -> OutcomeOut:
        outcome = OutcomeOut.of(submit(application, command, patient_id, body, caller))
        if outcome.status == "duplicate":
            response.status_code = status.HTTP_200_OK
        return outcome

    return endpoint


for segment, command, summary in RESOURCES:
    router.add_api_route(
        f"/patients/{{patient_id}}/{segment}",
        _endpoint(command),
        methods=["POST"],
        status_code=status.HTTP_201_CREATED,
        response_description="Accepted: one event stored",
        response_model=OutcomeOut,
        summary=summary,
        operation_id=command,
        responses={**_DUPLICATE, **problem_responses(401, 403, 404, 409, 410, 422)},
        openapi_extra=openapi.body_ref(command),
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
    body: JsonArray, application: ApplicationDep, request: Request, caller: Caller
) -> BatchOut:
    """One result per command: `accepted`, `duplicate` or `rejected` (with its problem).
    A rejected command stores nothing; the others are applied regardless."""
    return submit_batch(application, body, request.url.path, caller)
