"""`POST /v1/patients/{id}/erasure` (role admin): crypto-shredding of one patient."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from audit.principals import Principal
from infrastructure.erasure import MAX_REASON, erase_patient
from interfaces.api.deps import ApplicationDep, JsonObject, PatientId
from interfaces.api.problems import problem_responses
from interfaces.api.security import require
from journey.errors import invalid

router = APIRouter(prefix="/v1/patients", tags=["patients"])


class ErasureOut(BaseModel):
    """The erasure, as recorded (in clear, anchored) in the patient's stream."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    patient_id: str
    erased_at: str
    erased_version: int = Field(description="the patient's last version before erasure")
    chain_head: str = Field(description="the patient's chain hash at that version")


@router.post(
    "/{patient_id}/erasure",
    response_model=ErasureOut,
    summary="Erase the patient: destroy its data key (its events stay, unreadable)",
    operation_id="erase_patient",
    responses=problem_responses(401, 403, 404, 409, 410, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["reason"],
                        "additionalProperties": False,
                        "properties": {
                            "reason": {"type": "string", "minLength": 1, "maxLength": MAX_REASON}
                        },
                    }
                }
            },
        }
    },
)
def erasure(
    patient_id: PatientId,
    body: JsonObject,
    application: ApplicationDep,
    caller: Annotated[Principal, Depends(require("patient.erase"))],
) -> ErasureOut:
    """Every attempt is in the access trail with its outcome (interfaces.api.trail)."""
    extra = sorted(set(body) - {"reason"})
    if extra:
        raise invalid(extra[0], "extra_forbidden", "only `reason` is accepted")
    reason = body.get("reason")
    if not isinstance(reason, str):
        raise invalid("reason", "erasure_reason", "a string is required")
    marker = erase_patient(application, patient_id, reason, actor=caller.name)
    return ErasureOut(
        patient_id=patient_id,
        erased_at=marker.erased_at,
        erased_version=marker.erased_version,
        chain_head=marker.chain_head,
    )
