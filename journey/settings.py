"""The one typed settings object, read from the environment (and an optional `.env`)."""

from __future__ import annotations

from functools import cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JOURNEY_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///journey.db",
        description="sqlite:///path/to/file.db or postgresql://user:pass@host:port/db",
    )
    timezone: str = Field(default="UTC", description="default patient time zone (IANA)")
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


@cache
def get_settings() -> Settings:
    return Settings()
