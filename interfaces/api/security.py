"""Authentication (API keys -> principal and role), authorization, and the access trail of
patient-level reads, for the HTTP API."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request

from audit.access_log import Access, AccessLog, recording
from audit.principals import ANONYMOUS, KeyRegistry, Principal
from journey.errors import Issue, JourneyError


class NotAuthenticated(JourneyError):
    kind = "unauthenticated"


class Forbidden(JourneyError):
    kind = "forbidden"


@dataclass(frozen=True)
class Security:
    enabled: bool
    keys: KeyRegistry
    access_log: AccessLog

    def authenticate(self, request: Request) -> Principal:
        if not self.enabled:
            return ANONYMOUS
        key = request.headers.get("x-api-key") or ""
        bearer = request.headers.get("authorization", "")
        if not key and bearer.lower().startswith("bearer "):
            key = bearer[7:].strip()
        principal = self.keys.principal(key) if key else None
        if principal is None:
            raise NotAuthenticated(
                Issue("X-API-Key", "api_key", "a valid API key is required (X-API-Key header)")
            )
        return principal


def get_security(request: Request) -> Security:
    security = request.app.state.security
    assert isinstance(security, Security)
    return security


def require(permission: str) -> Callable[..., Principal]:
    """A dependency: the caller, who must hold `permission`."""

    def dependency(
        request: Request, security: Annotated[Security, Depends(get_security)]
    ) -> Principal:
        principal = security.authenticate(request)
        if not principal.may(permission):
            patient_id = request.path_params.get("patient_id")
            with audited(request, principal, permission, patient_id):
                raise Forbidden(
                    Issue("role", "permission", f"role '{principal.role}' may not {permission}")
                )
        return principal

    return dependency


def audited(
    request: Request, caller: Principal, action: str, patient_id: str | None, detail: str = ""
) -> AbstractContextManager[None]:
    """Records the access with its outcome (ok, or the error's kind), whatever happens."""
    access = Access(
        at=datetime.now(UTC),
        actor=caller.name,
        role=caller.role,
        channel="http",
        source=request.client.host if request.client else "unknown",
        action=action,
        patient_id=patient_id,
        detail=detail or str(request.url.query),
        outcome="ok",
    )
    return recording(get_security(request).access_log, access)
