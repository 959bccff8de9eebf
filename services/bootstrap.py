"""The composition root: builds the application from settings. Nothing connects at import."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from config.settings import Settings, get_settings
from config.storage import persistence_env
from infrastructure.files import create_private_file
from infrastructure.key_check import check_store_key, record_store_key
from infrastructure.keys import parse_master_key
from infrastructure.keystore import KeyStore
from infrastructure.patient_keys import KeyRing, PatientKeyMapper
from infrastructure.pseudonym_keys import plain_store_key
from infrastructure.schema_lock import schema_lock
from journey.application import JourneyApplication

# Recorders that also write the log's anchors (tamper evidence) with each insert.
ANCHORED_RECORDERS = {
    "eventsourcing.sqlite": "infrastructure.anchored_sqlite:AnchoredSQLiteApplicationRecorder",
    "eventsourcing.postgres": (
        "infrastructure.anchored_postgres:AnchoredPostgresApplicationRecorder"
    ),
}
MAPPER = "infrastructure.patient_keys:PatientKeyMapper"


def application_env(settings: Settings) -> dict[str, str]:
    """The eventsourcing environment of the application on the configured store."""
    env = persistence_env(settings.database_url)
    if "SQLITE_DBNAME" in env:
        create_private_file(env["SQLITE_DBNAME"])
    env["CREATE_TABLE"] = "n"  # only once the key is known to fit the store
    env["APPLICATION_RECORDER_TOPIC"] = ANCHORED_RECORDERS[env["PERSISTENCE_MODULE"]]
    env["TRANSCODER_TOPIC"] = "infrastructure.transcoder:OrjsonTranscoder"
    env["MAPPER_TOPIC"] = MAPPER
    env["AGGREGATE_CACHE_MAXSIZE"] = str(settings.aggregate_cache_size)
    return env


def build_application(
    settings: Settings | None = None, *, create_tables: bool = True
) -> JourneyApplication:
    """The application on the configured store; `create_tables=False` for processes that
    only work alongside one that created them (they must not wait on its locks).

    Raises StoreKeyError (before writing anything) when JOURNEY_CIPHER_KEY is malformed or
    does not fit the store (infrastructure.key_check)."""
    settings = settings or get_settings()
    master = parse_master_key(settings.cipher_key)
    app = JourneyApplication(
        application_env(settings),
        default_timezone=settings.timezone,
        earliest_occurred_at=settings.earliest_occurred_at,
    )
    try:
        configure_application(app, master, create_tables=create_tables)
    except BaseException:
        app.close()
        raise
    return app


def application_class(settings: Settings, mapper_topic: str = MAPPER) -> type[JourneyApplication]:
    """A class whose `cls(env)` is the application `build_application(settings,
    create_tables=False)` gives, with another mapper when asked: what eventsourcing's
    `ProjectionRunner` constructs (it calls `application_class(env)` itself)."""
    master = parse_master_key(settings.cipher_key)

    class ConfiguredJourney(JourneyApplication):
        name = JourneyApplication.name  # the log's tracking name stays the application's

        def __init__(self, env: Any = None) -> None:
            super().__init__(
                {**application_env(settings), "MAPPER_TOPIC": mapper_topic},
                default_timezone=settings.timezone,
                earliest_occurred_at=settings.earliest_occurred_at,
            )
            configure_application(self, master, create_tables=False)

    return ConfiguredJourney


def configure_application(
    app: JourneyApplication, master: bytes | None, *, create_tables: bool
) -> None:
    """Checks the store's key, creates the tables (`create_tables`) and gives the mapper and
    the recorder the key ring of an encrypted store."""
    recorder: Any = app.recorder
    store = KeyStore(recorder.datastore, recorder.events_table_name)
    with schema_lock(recorder.datastore) if create_tables else nullcontext():
        unrecorded = check_store_key(store, master)
        if create_tables:
            recorder.create_table()
            if app.snapshots is not None:
                app.snapshots.recorder.create_table()  # type: ignore[attr-defined]
            store.create_tables()
            if unrecorded:
                record_store_key(store, master)
            if master is None:
                plain_store_key(store)
            app.factory.env["CREATE_TABLE"] = "y"  # recorders made later (tracking) too
    if master is not None:
        keyring = KeyRing(master, store)
        assert isinstance(app.mapper, PatientKeyMapper)
        app.mapper.keyring = keyring
        recorder.keyring = keyring
