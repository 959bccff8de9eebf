"""Authentication (API keys -> principal and role), authorization, and the access trail of
patient-level reads, for the HTTP API.

A /v1 call is authenticated by `interfaces.api.guard.Authenticate` before FastAPI reads its
body; `require` then checks the role. The key schemes are declared with FastAPI's security
classes so the OpenAPI document carries them (`securitySchemes`) and generated clients
send the key. The write endpoints, the busiest, check the role with `authorized` instead:
the same check without depending on the schemes (two more dependencies each request would
solve, only to read the headers `Authenticate` has read); their routes declare in their
`openapi_extra` the `security` FastAPI writes for a route that depends on them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from audit.access_log import AccessLog
from audit.principals import ANONYMOUS, KeyRegistry, Principal
from journey.errors import Issue, JourneyError

API_KEY_SCHEME = APIKeyHeader(
    name="X-API-Key", scheme_name="ApiKey", auto_error=False, description="an API key"
)
BEARER_SCHEME = HTTPBearer(
    scheme_name="Bearer", auto_error=False, description="the same API key as a bearer token"
)
SCHEMES = (API_KEY_SCHEME, BEARER_SCHEME)
# an operation's OpenAPI `security`, as FastAPI writes it for a route depending on SCHEMES
SECURITY_REQUIREMENT: list[dict[str, list[str]]] = [{s.scheme_name: []} for s in SCHEMES]


class NotAuthenticated(JourneyError):
    kind = "unauthenticated"


class Forbidden(JourneyError):
    kind = "forbidden"


@dataclass(frozen=True)
class Security:
    enabled: bool
    keys: KeyRegistry
    access_log: AccessLog

    def identify(self, headers: Mapping[str, str]) -> tuple[Principal | None, str]:
        """The caller's principal from the request headers, or None and why."""
        if not self.enabled:
            return ANONYMOUS, ""
        key = headers.get("x-api-key") or ""
        bearer = headers.get("authorization", "")
        if not key and bearer.lower().startswith("bearer "):
            key = bearer[7:].strip()
        if not key:
            return None, "no API key"
        principal = self.keys.principal(key)
        return (principal, "") if principal is not None else (None, "unknown API key")

    @staticmethod
    def refusal() -> NotAuthenticated:
        return NotAuthenticated(
            Issue("X-API-Key", "api_key", "a valid API key is required (X-API-Key header)")
        )

    def authenticate(self, request: Request) -> Principal:
        known = getattr(request.state, "principal", None)
        if isinstance(known, Principal):
            return known
        principal, _ = self.identify(request.headers)
        if principal is None:
            raise self.refusal()
        return principal


def get_security(request: Request) -> Security:
    security = request.app.state.security
    assert isinstance(security, Security)
    return security


def require(permission: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency: the caller, who must hold `permission` (a refusal is recorded in the
    access trail by `interfaces.api.trail` for patient-level reads)."""

    async def dependency(  # async: no worker thread for what never blocks
        request: Request,
        _key: Annotated[str | None, Depends(API_KEY_SCHEME)],
        _bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER_SCHEME)],
    ) -> Principal:
        return _authorize(request, permission)

    return dependency


def authorized(permission: str) -> Callable[..., Awaitable[Principal]]:
    """`require(permission)` without depending on the key schemes: its routes declare
    SECURITY_REQUIREMENT in their `openapi_extra`."""

    async def dependency(request: Request) -> Principal:  # async: no worker thread
        return _authorize(request, permission)

    return dependency


def _authorize(request: Request, permission: str) -> Principal:
    principal = get_security(request).authenticate(request)
    if not principal.may(permission):
        raise Forbidden(
            Issue("role", "permission", f"role '{principal.role}' may not {permission}")
        )
    return principal
