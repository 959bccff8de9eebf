"""The one typed settings object, read from the environment (and an optional `.env`)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Self

from pydantic import AwareDatetime, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from journey.timekeeping import EARLIEST_OCCURRED_AT, is_canonical_zone


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JOURNEY_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///journey.db",
        description="sqlite:///path/to/file.db or postgresql://user:pass@host:port/db",
    )
    timezone: str = Field(default="UTC", description="default patient time zone (IANA)")
    earliest_occurred_at: AwareDatetime = Field(
        default=EARLIEST_OCCURRED_AT,
        description="the earliest clinical instant a command may carry (ISO-8601 with offset)",
    )
    kafka_bootstrap_servers: str | None = Field(default=None, description="turns publishing on")
    cipher_key: str | None = Field(
        default=None,
        description="master key (base64 AES key): wraps each patient's data key (docs/privacy.md)",
    )
    aggregate_cache_size: int = Field(default=10_000, ge=0)
    actor: str | None = Field(
        default=None, description="who the CLI acts as (recorded in events and the access log)"
    )
    auth: bool = Field(default=True, description="API keys required on the HTTP API")
    api_keys: str | None = Field(
        default=None,
        description="key=principal:role;... (roles: clinician, service, auditor, analyst, admin)",
    )
    max_body_bytes: int = Field(
        default=1 << 20, ge=1024, description="largest HTTP request body (bytes); else 413"
    )
    max_batch_body_bytes: int = Field(
        default=8 << 20,
        ge=1024,
        description="largest body of POST /v1/commands (1,000 commands of the largest valid"
        " size are about 0.9 MB as ASCII JSON, up to ~6 MB with escaped non-ASCII text)",
    )
    max_json_depth: int = Field(
        default=32, ge=2, description="deepest JSON nesting of a request body; else 422"
    )
    progress_every_s: float = Field(
        default=5.0, ge=0, description="seconds between progress lines when not on a terminal"
    )
    api_keys_file: Path | None = Field(
        default=None,
        description="a file holding the API keys (e.g. a Docker secret): the JOURNEY_API_KEYS "
        "format, or one key=principal:role per line (# comments); exclusive with api_keys",
    )
    fhir_identifier_system: str = Field(
        default="urn:care-journey:patient-id",
        description="FHIR Identifier.system of patient ids (an absolute URI); episode, stay"
        " and session identifiers are values under the patient id in the same system",
    )

    @field_validator("timezone")
    @classmethod
    def _canonical_zone(cls, value: str) -> str:
        if not is_canonical_zone(value):
            raise ValueError(f"'{value}' is not a canonical IANA time zone name")
        return value

    @field_validator("fhir_identifier_system")
    @classmethod
    def _absolute_uri(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s|]+", value):
            raise ValueError("must be an absolute URI (scheme:...) without spaces or '|'")
        return value

    @model_validator(mode="after")
    def _api_keys_from_file(self) -> Self:
        if self.api_keys_file is None:
            return self
        if self.api_keys:
            raise ValueError("set JOURNEY_API_KEYS or JOURNEY_API_KEYS_FILE, not both")
        self.api_keys = read_api_keys_file(self.api_keys_file)
        return self


def read_api_keys_file(path: Path) -> str:
    """The keys of a JOURNEY_API_KEYS_FILE in the JOURNEY_API_KEYS form (';'-separated)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ValueError(f"JOURNEY_API_KEYS_FILE: cannot read {path}: {error.strerror}") from None
    entries = [
        entry.strip()
        for line in text.splitlines()
        if not line.lstrip().startswith("#")
        for entry in line.split(";")
        if entry.strip()
    ]
    if not entries:
        raise ValueError(f"JOURNEY_API_KEYS_FILE: {path} holds no key")
    return ";".join(entries)


@cache
def get_settings() -> Settings:
    return Settings()
