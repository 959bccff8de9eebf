"""Errors as RFC 9457 problem+json: domain exceptions are mapped here, once.

FastAPI's own request validation errors (path and query parameters) and Starlette's HTTP
errors (unknown route, wrong method) are turned into the same shape, and so are unexpected
failures (500), so a client only ever sees problem+json. Storage failures (disk full,
read-only store, cannot open or connect) are a 503 naming the cause, logged in one line."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from infrastructure.storage_errors import storage_exceptions, storage_unavailable
from interfaces.api.schemas import Problem, ProblemIssue
from journey.errors import InvalidCommand, Issue, JourneyError, StorageUnavailable

PROBLEM_BASE = "https://carejourney.org/problems/"
MEDIA_TYPE = "application/problem+json"
STATUS_BY_KIND = {
    "invalid": 422,
    "conflict": 409,
    "not_found": 404,
    "gone": 410,
    "unauthenticated": 401,
    "forbidden": 403,
    "unavailable": 503,
}
TITLE_BY_STATUS = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden for this role",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict with the patient's history",
    410: "Patient erased",
    413: "Content too large",
    422: "Invalid request",
    503: "Storage unavailable",
}
LOG = logging.getLogger("journey.api")
# RFC 9110 section 11.6.1: a 401 names the schemes that would authenticate the request.
WWW_AUTHENTICATE = 'Bearer realm="care-journey", ApiKey realm="care-journey", header="X-API-Key"'
_LOCATIONS = ("body", "query", "path", "header", "cookie")


def status_of(error: JourneyError) -> int:
    return STATUS_BY_KIND.get(error.kind, 400)


def problem_for(error: JourneyError, instance: str | None) -> Problem:
    """The problem document of a domain error; its type names the rule when there is one."""
    status = status_of(error)
    rules = {issue.rule for issue in error.issues}
    slug = rules.pop() if len(rules) == 1 else error.kind
    title = "Unknown patient" if error.kind == "not_found" else TITLE_BY_STATUS[status]
    return Problem(
        type=PROBLEM_BASE + slug,
        title=title,
        status=status,
        detail=error.message if isinstance(error, StorageUnavailable) else str(error) or title,
        instance=instance,
        errors=[ProblemIssue(field=i.field, rule=i.rule, message=i.message) for i in error.issues],
    )


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
    """The problem document as a response; a 401 always carries `WWW-Authenticate`."""
    if problem.status == 401:
        headers = {"WWW-Authenticate": WWW_AUTHENTICATE, **(headers or {})}
    return JSONResponse(
        problem.model_dump(mode="json"),
        status_code=problem.status,
        media_type=MEDIA_TYPE,
        headers=headers,
    )


def _issue(error: Any) -> Issue:
    loc = [str(part) for part in error.get("loc", ())]
    if loc and loc[0] in _LOCATIONS:
        where, loc = loc[0], loc[1:]
    else:
        where = "body"
    field = ".".join(loc) if loc and error.get("type") != "json_invalid" else where
    return Issue(field, str(error.get("type", "invalid")), str(error.get("msg", "invalid")))


async def _journey_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, JourneyError)
    if isinstance(exc, StorageUnavailable):
        route = getattr(request.scope.get("route"), "path", "?")  # the template: no patient id
        LOG.warning("storage unavailable: %s (%s %s)", exc.message, request.method, route)
    return problem_response(problem_for(exc, request.url.path))


def _storage_handler(database_url: str | None) -> Any:
    async def storage_error(request: Request, exc: Exception) -> JSONResponse:
        """A storage failure -> 503 naming its cause (not the store's location); any other
        exception of these classes goes on to the 500 handler, which logs it."""
        found = storage_unavailable(exc, database_url, locate=False)
        if found is None:
            raise exc
        return await _journey_error(request, found)

    return storage_error


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    error = InvalidCommand(*(_issue(e) for e in exc.errors()))
    return problem_response(problem_for(error, request.url.path))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    title = TITLE_BY_STATUS.get(exc.status_code, "HTTP error")
    slug = title.lower().replace(" ", "_") if exc.status_code != 404 else "not_found"
    problem = Problem(
        type=PROBLEM_BASE + slug,
        title=title,
        status=exc.status_code,
        detail=str(exc.detail),
        instance=request.url.path,
        errors=[],
    )
    return problem_response(problem, headers=dict(exc.headers or {}))


async def _server_error(request: Request, exc: Exception) -> JSONResponse:
    """A failure of ours (store down, bug): problem+json without internals. Starlette's
    ServerErrorMiddleware still re-raises the exception, so it is logged, not hidden."""
    problem = Problem(
        type=PROBLEM_BASE + "internal_error",
        title="Internal server error",
        status=500,
        detail="the service failed to handle the request; it has been logged",
        instance=request.url.path,
        errors=[],
    )
    return problem_response(problem)


def install_problem_handlers(app: FastAPI, database_url: str | None = None) -> None:
    app.add_exception_handler(Exception, _server_error)
    for kind in storage_exceptions(postgres=True):  # handlers registered before any store
        app.add_exception_handler(kind, _storage_handler(database_url))
    app.add_exception_handler(JourneyError, _journey_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for problem documents of the given statuses, and 503
    (storage unavailable), which every route may answer."""
    schema = {"$ref": "#/components/schemas/Problem"}
    return {
        status: {
            "description": TITLE_BY_STATUS[status],
            "content": {MEDIA_TYPE: {"schema": schema}},
        }
        for status in (*statuses, 503)
    }
