"""Analyst endpoints (SPEC 9): cohort figures over the read models, as of T (`at`).

Each request first applies the notification log to the read models (the log follower,
once: a single poll when a `journey project` worker keeps them current), then answers from
the `rm_` tables only. Aggregates only: nothing patient-level is returned, so nothing is
written to the access trail; the caller needs `analytics.read`. Callers without
`analytics.detail` (the analyst role) get whole dates and small cells suppressed (SPEC 10,
`projections.analytics.disclosure`); admin keeps full detail, as does the CLI."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, BeforeValidator

from audit.principals import Principal
from consumers.projector_log import LogFollower, follow_log
from infrastructure.sql import Database, Unit
from interfaces.api.deps import ApplicationDep, AsOf
from interfaces.api.problems import problem_responses
from interfaces.api.security import require
from interfaces.timeparse import query_date
from journey.application import JourneyApplication
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


def _as_of(caller: Principal, at: datetime | None) -> datetime:
    """T: as given (default now), reduced to the start of its UTC date for a caller without
    `analytics.detail` (the analyst role)."""
    t = at or datetime.now(UTC)
    return t if caller.may(DETAIL) else whole_date(t)


class AnalyticsRoutes:
    """The endpoints, on connections to the store that `connect` opens (the API's
    composition root: `services.runtime.Runtime.connect`)."""

    def __init__(self, connect: Callable[[], Database]) -> None:
        self.connect = connect

    @contextmanager
    def _read_models(self, application: JourneyApplication) -> Iterator[Unit]:
        db = self.connect()
        try:
            follow_log(LogFollower(application, db), once=True)
            with db.transaction() as unit:
                yield unit
        finally:
            db.close()

    def _answer(
        self,
        application: JourneyApplication,
        caller: Principal,
        at: datetime | None,
        query: Callable[[Unit, datetime], M],
    ) -> M:
        """The exact answer for `analytics.detail`, else the released one (whole dates,
        small cells suppressed: `projections.analytics.disclosure`)."""
        with self._read_models(application) as unit:
            answer = query(unit, _as_of(caller, at))
        return answer if caller.may(DETAIL) else release(answer)

    def census(self, application: ApplicationDep, caller: Analyst, at: AsOf = None) -> CensusAt:
        return self._answer(application, caller, at, census_at)

    def census_daily(
        self, application: ApplicationDep, caller: Analyst, first: First, last: Last,
        at: AsOf = None,
    ) -> CensusDaily:  # fmt: skip
        return self._answer(
            application, caller, at, lambda unit, t: census_daily(unit, t, first, last)
        )

    def length_of_stay(
        self, application: ApplicationDep, caller: Analyst, at: AsOf = None
    ) -> LengthOfStay:
        return self._answer(application, caller, at, length_of_stay)

    def transitions(
        self, application: ApplicationDep, caller: Analyst, first: First, last: Last,
        at: AsOf = None,
    ) -> Transitions:  # fmt: skip
        return self._answer(
            application, caller, at, lambda unit, t: transitions(unit, t, first, last)
        )

    def retention(self, application: ApplicationDep, caller: Analyst, at: AsOf = None) -> Retention:
        return self._answer(application, caller, at, retention)

    def intensity(self, application: ApplicationDep, caller: Analyst, at: AsOf = None) -> Intensity:
        return self._answer(application, caller, at, intensity)


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
)  # fmt: skip


def router_for(connect: Callable[[], Database]) -> APIRouter:
    """The `/v1/analytics` routes on the read models of the store `connect` opens."""
    routes = AnalyticsRoutes(connect)
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
