"""The access trail, for auditors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from audit.principals import Principal
from interfaces.api.deps import KnownAt
from interfaces.api.problems import problem_responses
from interfaces.api.schemas import AccessOut
from interfaces.api.security import get_security, require

router = APIRouter(prefix="/v1", tags=["audit"])


@router.get(
    "/access-log",
    response_model=list[AccessOut],
    summary="Reads and exports of patient-level data, newest first",
    operation_id="access_log",
    responses=problem_responses(401, 403, 422),
)
def access_log(
    *,
    request: Request,
    caller: Annotated[Principal, Depends(require("access_log.read"))],
    actor: str | None = None,
    patient_id: str | None = None,
    action: str | None = None,
    since: KnownAt = None,
    until: KnownAt = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1_000,
) -> list[AccessOut]:
    rows = get_security(request).access_log.query(
        actor=actor, patient_id=patient_id, action=action, since=since, until=until, limit=limit
    )
    return [AccessOut.model_validate(r, from_attributes=True) for r in rows]
