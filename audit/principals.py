"""Who may do what: API keys mapped to a principal and a role, and each role's permissions."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from journey.errors import invalid

# What each role may do. Patient-level reads are recorded in the access trail.
PERMISSIONS: dict[str, frozenset[str]] = {
    "clinician": frozenset({"command", "journey.read", "history.read"}),
    "service": frozenset({"command", "journey.read"}),
    "auditor": frozenset({"journey.read", "history.read", "access_log.read", "audit.report"}),
    "analyst": frozenset({"analytics.read"}),
    "admin": frozenset(
        {
            "command",
            "journey.read",
            "history.read",
            "access_log.read",
            "audit.report",
            "analytics.read",
            "analytics.detail",  # exact counts at any instant (analysts: dates, cells > 10)
            "patient.erase",
        }
    ),
}


@dataclass(frozen=True)
class Principal:
    name: str
    role: str

    def may(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, frozenset())


ANONYMOUS = Principal("anonymous (authentication off)", "admin")


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


@dataclass(frozen=True)
class KeyRegistry:
    """API keys (kept only as SHA-256 digests) -> principals."""

    entries: tuple[tuple[bytes, Principal], ...]

    @classmethod
    def parse(cls, text: str | None) -> KeyRegistry:
        """`key=principal:role;key2=principal2:role2` (the JOURNEY_API_KEYS setting)."""
        entries = []
        for item in filter(None, (part.strip() for part in (text or "").split(";"))):
            key, _, who = item.partition("=")
            name, _, role = who.partition(":")
            if not key or not name or role not in PERMISSIONS:
                roles = ", ".join(PERMISSIONS)
                raise invalid(
                    "JOURNEY_API_KEYS",
                    "key_format",
                    f"entries are key=principal:role with role one of {roles}",
                )
            entries.append((_digest(key), Principal(name, role)))
        return cls(tuple(entries))

    def principal(self, key: str) -> Principal | None:
        digest = _digest(key)
        found = None
        for known, principal in self.entries:  # compare every entry: constant time
            if hmac.compare_digest(known, digest):
                found = principal
        return found
