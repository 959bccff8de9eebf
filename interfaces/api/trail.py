"""The access trail of patient-level reads over HTTP: every attempt, with its real outcome.

An ASGI middleware (outermost of ours) records each request to a route of PATIENT_READS
when its response starts, with the outcome its status means: refused ones included (401
from `guard.Authenticate`, 403, 404, 422 from FastAPI's parameter validation) and a failure
(500) as `error`. The row is written before the response leaves: if the trail cannot be
written, the read fails (fail closed)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from audit.access_log import Access, AccessLog
from audit.principals import Principal
from infrastructure.storage_errors import storage_unavailable
from interfaces.api.problems import problem_for, problem_response
from journey.errors import StorageUnavailable

READS = ("GET", "HEAD")
# (methods, path, action): the patient id is the path's `patient_id` group, or the query's.
PATIENT_READS = (
    (READS, re.compile(r"^/v1/patients/(?P<patient_id>[^/]+)/journey$"), "journey.read"),
    (READS, re.compile(r"^/v1/patients/(?P<patient_id>[^/]+)/history$"), "history.read"),
    (READS, re.compile(r"^/v1/patients/(?P<patient_id>[^/]+)/sessions$"), "sessions.read"),
    (READS, re.compile(r"^/v1/patients/(?P<patient_id>[^/]+)/care$"), "care.read"),
    (READS, re.compile(r"^/v1/access-log$"), "access_log.read"),
    (("POST",), re.compile(r"^/v1/patients/(?P<patient_id>[^/]+)/erasure$"), "patient.erase"),
)
OUTCOME_BY_STATUS = {
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    410: "gone",
    413: "too_large",
    422: "invalid",
    503: "unavailable",
}
MAX_FIELD = 256  # a path or query longer than this is cut in the trail


def outcome_of(status: int) -> str:
    if status < 400:
        return "ok"
    return OUTCOME_BY_STATUS.get(status, "error" if status >= 500 else "invalid")


class RecordPatientReads:
    def __init__(self, app: ASGIApp, access_log: AccessLog) -> None:
        self.app, self.access_log = app, access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        read = _patient_read(scope)
        if read is None:
            await self.app(scope, receive, send)
            return
        recorded = False
        unrecorded: StorageUnavailable | None = None  # the trail could not be written

        async def send_recorded(message: Message) -> None:
            nonlocal recorded, unrecorded
            if message["type"] == "http.response.start" and not recorded:
                recorded = True
                unrecorded = await self._try_record(scope, read, int(message["status"]))
            if unrecorded is None:
                await send(message)

        try:
            await self.app(scope, receive, send_recorded)
        except BaseException:
            if not recorded:
                recorded = True
                await self._record(scope, read, "error")
            raise
        if unrecorded is not None:  # fail closed: nothing of the read leaves
            problem = problem_for(unrecorded, str(scope["path"]))
            await problem_response(problem)(scope, receive, send)

    async def _try_record(
        self, scope: Scope, read: tuple[str, str | None], status: int
    ) -> StorageUnavailable | None:
        """Records the attempt; the storage failure that prevented it, if one did."""
        try:
            await self._record(scope, read, outcome_of(status))
        except Exception as error:  # re-raised unless it is a storage failure
            found = storage_unavailable(error, locate=False)
            if found is None:
                raise
            return found
        return None

    async def _record(self, scope: Scope, read: tuple[str, str | None], outcome: str) -> None:
        action, patient_id = read
        state: dict[str, Any] = scope.get("state", {})
        caller = state.get("principal")
        if isinstance(caller, Principal):
            actor, role = caller.name, caller.role
        else:
            actor, role = f"({state.get('auth_failure', 'unauthenticated')})", "none"
        client = scope.get("client")
        access = Access(
            at=datetime.now(UTC),
            actor=actor,
            role=role,
            channel="http",
            source=str(client[0]) if client else "unknown",
            action=action,
            patient_id=patient_id,
            detail=_query(scope)[:MAX_FIELD],
            outcome=outcome,
        )
        await run_in_threadpool(self.access_log.record, access)


def _query(scope: Scope) -> str:
    return bytes(scope.get("query_string", b"")).decode("latin-1")


def _patient_read(scope: Scope) -> tuple[str, str | None] | None:
    """(action, patient id) of a request for patient-level data (PATIENT_READS); None for
    anything else."""
    if scope["type"] != "http":
        return None
    for methods, pattern, action in PATIENT_READS:
        if scope.get("method") not in methods:
            continue
        match = pattern.match(str(scope["path"]))
        if match is not None:
            found = match.groupdict().get("patient_id")
            if found is None:
                found = next(iter(parse_qs(_query(scope)).get("patient_id", [])), None)
            return action, None if found is None else found[:MAX_FIELD]
    return None
