"""The composition root: builds the application from settings. Nothing connects at import."""

from __future__ import annotations

from journey.application import JourneyApplication
from journey.settings import Settings, get_settings
from journey.storage import persistence_env


def build_application(settings: Settings | None = None) -> JourneyApplication:
    settings = settings or get_settings()
    env = persistence_env(settings.database_url)
    env["AGGREGATE_CACHE_MAXSIZE"] = str(settings.aggregate_cache_size)
    if settings.cipher_key:
        env["CIPHER_TOPIC"] = "eventsourcing.cryptography:AESCipher"
        env["CIPHER_KEY"] = settings.cipher_key
    return JourneyApplication(env, default_timezone=settings.timezone)
