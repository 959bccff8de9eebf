"""Analyst endpoints (SPEC 9): cohort figures over the read models, as of T (`at`).

A request never writes and runs no DDL: it answers from the `rm_` tables as a projection
worker keeps them (`journey serve`'s worker thread, or `journey project`), in a read-only
transaction, and says how far behind the log they are in the headers
`X-Read-Models-Position`, `X-Log-Head` and `X-Read-Models-Lag` (notifications not applied
yet). `wait=S` (up to 10 s) first waits, bounded, for the read models to reach the log's
head as of the request. The schema is prepared once, when the routes are made.

Aggregates only: nothing patient-level is returned, so nothing is written to the access
trail; the caller needs `analytics.read`. Callers without
`analytics.detail` (the analyst role) get whole dates and small cells suppressed (SPEC 10,
`projections.analytics.disclosure`); admin keeps full detail, as does the CLI."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, BeforeValidator

from audit.principals import Principal
from consumers.read_model_service import ReadModelReader
from infrastructure.sql import Unit
from interfaces.api.deps import ApplicationDep, AsOf
from interfaces.api.problems import problem_responses
from interfaces.api.security import require
from interfaces.timeparse import query_date
from journey.application import JourneyApplication
from projections.analytics.care_standards import CareStandards, care_standards
from projections.analytics.census import CensusAt, CensusDaily, census_at, census_daily
from projections.analytics.disclosure import release, whole_date
from projections.analytics.intensity import Intensity, intensity
from projections.analytics.length_of_stay import LengthOfStay, length_of_stay
from projections.analytics.retention import Retention, retention
from projections.analytics.transitions import Transitions, transitions

M = TypeVar("M", bound=BaseModel)
Analyst = Annotated[Principal, Depends(require("analytics.read"))]
DETAIL = "analytics.detail"  # exact figures at any instant; without it: released figures
First = Annotated[
    date, BeforeValidator(query_date), Query(alias="from", description="first local date")
]
Last = Annotated[
    date, BeforeValidator(query_date), Query(alias="to", description="last local date")
]
MAX_WAIT_SECONDS = 10.0
Wait = Annotated[
    float,
    Query(
        ge=0,
        le=MAX_WAIT_SECONDS,
        description="seconds to wait, at most, for the read models to reach the log's head"
        " as of the request (default 0: answer at once); the headers say how far behind"
        " they are either way",
    ),
]


def _as_of(caller: Principal, at: datetime | None) -> datetime:
    """T: as given (default now), reduced to the start of its UTC date for a caller without
    `analytics.detail` (the analyst role)."""
    t = at or datetime.now(UTC)
    return t if caller.may(DETAIL) else whole_date(t)


class AnalyticsRoutes:
    """The endpoints, on the read-only reader of the API's composition root."""

    def __init__(self, read_models: ReadModelReader) -> None:
        self.read_models = read_models

    def _answer(
        self,
        request: tuple[JourneyApplication, Principal, Response, float],
        at: datetime | None,
        query: Callable[[Unit, datetime], M],
    ) -> M:
        """The exact answer for `analytics.detail`, else the released one (whole dates,
        small cells suppressed: `projections.analytics.disclosure`)."""
        application, caller, response, wait = request
        if wait:
            self.read_models.wait(application.recorder.max_notification_id() or 0, wait)
        freshness = self.read_models.freshness(application)
        with self.read_models.reading() as unit:
            answer = query(unit, _as_of(caller, at))
        response.headers["X-Read-Models-Position"] = str(freshness.position)
        response.headers["X-Log-Head"] = str(freshness.head)
        response.headers["X-Read-Models-Lag"] = str(freshness.lag)
        return answer if caller.may(DETAIL) else release(answer)

    def census(
        self, application: ApplicationDep, caller: Analyst, response: Response,
        at: AsOf = None, wait: Wait = 0,
    ) -> CensusAt:  # fmt: skip
        return self._answer((application, caller, response, wait), at, census_at)

    def census_daily(
        self, *, application: ApplicationDep, caller: Analyst, response: Response, first: First,
        last: Last, at: AsOf = None, wait: Wait = 0,
    ) -> CensusDaily:  # fmt: skip
        return self._answer(
            (application, caller, response, wait), at,
            lambda unit, t: census_daily(unit, t, first, last),
        )  # fmt: skip

    def length_of_stay(
        self, application: ApplicationDep, caller: Analyst, response: Response,
        at: AsOf = None, wait: Wait = 0,
    ) -> LengthOfStay:  # fmt: skip
        return self._answer((application, caller, response, wait), at, length_of_stay)

    def transitions(
        self, *, application: ApplicationDep, caller: Analyst, response: Response, first: First,
        last: Last, at: AsOf = None, wait: Wait = 0,
    ) -> Transitions:  # fmt: skip
        return self._answer(
            (application, caller, response, wait), at,
            lambda unit, t: transitions(unit, t, first, last),
        )  # fmt: skip

    def retention(
        self, application: ApplicationDep, caller: Analyst, response: Response,
        at: AsOf = None, wait: Wait = 0,
    ) -> Retention:  # fmt: skip
        return self._answer((application, caller, response, wait), at, retention)

    def intensity(
        self, application: ApplicationDep, caller: Analyst, response: Response,
        at: AsOf = None, wait: Wait = 0,
    ) -> Intensity:  # fmt: skip
        return self._answer((application, caller, response, wait), at, intensity)

    def care_standards(
        self, application: ApplicationDep, caller: Analyst, response: Response,
        at: AsOf = None, wait: Wait = 0,
    ) -> CareStandards:  # fmt: skip
        return self._answer((application, caller, response, wait), at, care_standards)


# path, endpoint (method name), response model, summary
ROUTES: tuple[tuple[str, str, type[BaseModel], str], ...] = (
    ("/census", "census", CensusAt, "Patients per level in force at instant T"),
    ("/census/daily", "census_daily", CensusDaily,
     "Midnight census: patients per level of each local date in [from, to], as of T"),
    ("/length-of-stay", "length_of_stay", LengthOfStay,
     "Days of the stays ended and the episodes discharged by T"),
    ("/transitions", "transitions", Transitions,
     "Transitions per (from, to) pair over local dates [from, to], by direction"),
    ("/retention", "retention", Retention, "90-day retention of the care chains as of T"),
    ("/intensity", "intensity", Intensity,
     "Complete single-level ambulatory weeks by status; attendance rate per level"),
    ("/care-standards", "care_standards", CareStandards,
     "Weekly individual sessions with the primary therapist per level, overdue plan"
     " reviews and plans, referrals open and closed, as of T"),
)  # fmt: skip


def router_for(read_models: ReadModelReader) -> APIRouter:
    """The `/v1/analytics` routes on `read_models` (the composition root's reader)."""
    routes = AnalyticsRoutes(read_models)
    router = APIRouter(prefix="/v1/analytics", tags=["analytics"])
    errors: dict[int | str, dict[str, Any]] = problem_responses(401, 403, 422)
    for path, name, model, summary in ROUTES:
        router.add_api_route(
            path,
            getattr(routes, name),
            methods=["GET"],
            response_model=model,
            summary=summary,
            operation_id=f"analytics_{name}",
            responses=errors,
        )
    return router
