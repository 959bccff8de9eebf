"""The composition root: builds the application from settings. Nothing connects at import."""

from __future__ import annotations

from journey.application import JourneyApplication
from journey.settings import Settings, get_settings
from journey.storage import persistence_env

# Recorders that also write the log's anchors (tamper evidence) with each insert.
ANCHORED_RECORDERS = {
    "eventsourcing.sqlite": "audit.anchored_sqlite:AnchoredSQLiteApplicationRecorder",
    "eventsourcing.postgres": "audit.anchored_postgres:AnchoredPostgresApplicationRecorder",
}


def build_application(
    settings: Settings | None = None, *, create_tables: bool = True
) -> JourneyApplication:
    """The application on the configured store; `create_tables=False` for processes that
    only work alongside one that created them (they must not wait on its locks)."""
    settings = settings or get_settings()
    env = persistence_env(settings.database_url)
    if not create_tables:
        env["CREATE_TABLE"] = "n"
    env["APPLICATION_RECORDER_TOPIC"] = ANCHORED_RECORDERS[env["PERSISTENCE_MODULE"]]
    env["TRANSCODER_TOPIC"] = "infrastructure.transcoder:OrjsonTranscoder"
    env["AGGREGATE_CACHE_MAXSIZE"] = str(settings.aggregate_cache_size)
    if settings.cipher_key:
        env["CIPHER_TOPIC"] = "eventsourcing.cryptography:AESCipher"
        env["CIPHER_KEY"] = settings.cipher_key
    return JourneyApplication(
        env,
        default_timezone=settings.timezone,
        earliest_occurred_at=settings.earliest_occurred_at,
    )
