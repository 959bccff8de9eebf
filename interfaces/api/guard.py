"""What runs before FastAPI touches a request (it reads and parses a body before the
route's dependencies run, so a dependency is too late to refuse it):

- `Authenticate`: a /v1 call is authenticated from its headers alone; without a valid key
  it gets 401 problem+json (with `WWW-Authenticate`) and its body is never read.
- `LimitBody`: a /v1 body is read with a size limit (a Content-Length over the limit is
  refused before reading; a chunked body is counted while it streams): 413. Its JSON
  nesting depth is checked before anything parses it: 422 `max_json_depth`."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from interfaces.api.problems import PROBLEM_BASE, problem_for, problem_response
from interfaces.api.schemas import Problem, ProblemIssue
from interfaces.api.security import Security
from journey.errors import invalid

GUARDED_PREFIX = "/v1/"
BATCH_PATH = "/v1/commands"
# A JSON token that matters for nesting: a string (skipped whole, escapes included, an
# unterminated one runs to the end) or a bracket. Possessive: linear time on any input.
_TOKENS = re.compile(rb'"(?:[^"\\]++|\\.)*+(?:"|\Z)|[\[\]{}]')
_OPENING = frozenset(b"[{")
_QUOTE = ord('"')


@dataclass(frozen=True)
class BodyLimits:
    max_bytes: int  # any /v1 body
    max_batch_bytes: int  # POST /v1/commands (up to 1,000 commands)
    max_depth: int  # JSON nesting

    def for_path(self, path: str) -> int:
        return self.max_batch_bytes if path == BATCH_PATH else self.max_bytes


def too_deep(raw: bytes, limit: int) -> bool:
    """Whether the JSON text `raw` nests deeper than `limit` (brackets inside strings
    aside), found without parsing it."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth = 0
    for match in _TOKENS.finditer(raw):
        first = match.group()[0]
        if first == _QUOTE:
            continue
        depth += 1 if first in _OPENING else -1
        if depth > limit:
            return True
    return False


def _guarded(scope: Scope) -> bool:
    return scope["type"] == "http" and str(scope["path"]).startswith(GUARDED_PREFIX)


class Authenticate:
    """401 for /v1 calls without a valid API key, before anything reads the body; the
    caller's principal (or why there is none) goes to the request state."""

    def __init__(self, app: ASGIApp, security: Security) -> None:
        self.app, self.security = app, security

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _guarded(scope):
            await self.app(scope, receive, send)
            return
        principal, failure = self.security.identify(Headers(scope=scope))
        state = scope.setdefault("state", {})
        if principal is None:
            state["auth_failure"] = failure
            response = problem_response(problem_for(self.security.refusal(), scope["path"]))
            await response(scope, receive, send)
            return
        state["principal"] = principal
        await self.app(scope, receive, send)


class LimitBody:
    """Reads a /v1 body within its size limit and checks its depth, then hands it on."""

    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app, self.limits = app, limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _guarded(scope):
            await self.app(scope, receive, send)
            return
        limit = self.limits.for_path(scope["path"])
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _too_large(scope, receive, send, limit)
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = bool(message.get("more_body", False))
            if len(body) > limit:
                await _too_large(scope, receive, send, limit)
                return
        if too_deep(bytes(body), self.limits.max_depth):
            error = invalid(
                "body",
                "max_json_depth",
                f"JSON nested deeper than {self.limits.max_depth} levels",
            )
            await problem_response(problem_for(error, scope["path"]))(scope, receive, send)
            return
        await self.app(scope, _replay(bytes(body), receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the body read once, then waits on the client as before."""
    first = itertools.count()

    async def replay() -> Message:
        if next(first) == 0:
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    problem = Problem(
        type=PROBLEM_BASE + "max_body_bytes",
        title="Content too large",
        status=413,
        detail=f"the body exceeds {limit} bytes (or its Content-Length is not a number)",
        instance=scope["path"],
        errors=[
            ProblemIssue(field="body", rule="max_body_bytes", message=f"at most {limit} bytes")
        ],
    )
    await problem_response(problem, headers={"Connection": "close"})(scope, receive, send)
