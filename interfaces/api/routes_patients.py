"""Read endpoints: a patient's journey (SPEC section 6) and event history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from audit.principals import Principal
from interfaces.api.deps import ApplicationDep, AsOf, KnownAt, PatientId
from interfaces.api.problems import problem_responses
from interfaces.api.schemas import HistoryOut
from interfaces.api.security import require
from projections.care_view import CareView
from projections.journey_view import JourneyView
from projections.queries import patient_care, patient_history, patient_journey, patient_sessions
from projections.session_view import SessionLogView

router = APIRouter(prefix="/v1/patients", tags=["patients"])


@router.get(
    "/{patient_id}/journey",
    response_model=JourneyView,
    summary="The patient's journey as of T, from what was known at K",
    operation_id="patient_journey",
    responses=problem_responses(401, 403, 404, 410, 422),
)
def journey(
    patient_id: PatientId,
    *,
    application: ApplicationDep,
    caller: Annotated[Principal, Depends(require("journey.read"))],
    as_of: AsOf = None,
    known_at: KnownAt = None,
) -> JourneyView:
    return patient_journey(application, patient_id, as_of=as_of, known_at=known_at)


@router.get(
    "/{patient_id}/history",
    response_model=HistoryOut,
    summary="Every stored event of the patient, in order (recorded by K when given)",
    operation_id="patient_history",
    responses=problem_responses(401, 403, 404, 410, 422),
)
def history(
    patient_id: PatientId,
    application: ApplicationDep,
    caller: Annotated[Principal, Depends(require("history.read"))],
    known_at: KnownAt = None,
) -> HistoryOut:
    events = patient_history(application, patient_id, known_at=known_at)
    return HistoryOut(patient_id=patient_id, events=events)


@router.get(
    "/{patient_id}/sessions",
    response_model=SessionLogView,
    summary="The sessions as of T (corrections and voids applied) and every correction and"
    " void, from what was known at K",
    operation_id="patient_sessions",
    responses=problem_responses(401, 403, 404, 410, 422),
)
def sessions(
    patient_id: PatientId,
    *,
    application: ApplicationDep,
    caller: Annotated[Principal, Depends(require("history.read"))],
    as_of: AsOf = None,
    known_at: KnownAt = None,
) -> SessionLogView:
    return patient_sessions(application, patient_id, as_of=as_of, known_at=known_at)


@router.get(
    "/{patient_id}/care",
    response_model=CareView,
    summary="The treatment plans (goals, objectives with statuses), referrals and primary"
    " therapist as of T, from what was known at K",
    operation_id="patient_care",
    responses=problem_responses(401, 403, 404, 410, 422),
)
def care(
    patient_id: PatientId,
    *,
    application: ApplicationDep,
    caller: Annotated[Principal, Depends(require("history.read"))],
    as_of: AsOf = None,
    known_at: KnownAt = None,
) -> CareView:
    return patient_care(application, patient_id, as_of=as_of, known_at=known_at)
