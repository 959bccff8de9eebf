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
    "eventsourcing.postgres": "infrastructure.anchored_postgres:AnchoredPostgresApplicationRecorder",
}
MAPPER = "infrastructure.patient_keys:PatientKeyMapper"


def build_application(
    settings: Settings | None = None, *, create_tables: bool = True
) -> JourneyApplication:
    """The application on the configured store; `create_tables=False` for processes that
    only work alongside one that created them (they must not wait on its locks).

    Raises StoreKeyError (before writing anything) when JOURNEY_CIPHER_KEY is malformed or
    does not fit the store (infrastructure.key_check)."""
    settings = settings or get_settings()
    master = parse_master_key(settings.cipher_key)
    env = persistence_env(settings.database_url)
    if "SQLITE_DBNAME" in env:
        create_private_file(env["SQLITE_DBNAME"])
    env["CREATE_TABLE"] = "n"  # only once the key is known to fit the store
    env["APPLICATION_RECORDER_TOPIC"] = ANCHORED_RECORDERS[env["PERSISTENCE_MODULE"]]
    env["TRANSCODER_TOPIC"] = "infrastructure.transcoder:OrjsonTranscoder"
    env["MAPPER_TOPIC"] = MAPPER
    env["AGGREGATE_CACHE_MAXSIZE"] = str(settings.aggregate_cache_size)
    app = JourneyApplication(
        env,
        default_timezone=settings.timezone,
        earliest_occurred_at=settings.earliest_occurred_at,
    )
    recorder: Any = app.recorder
    try:
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
    except BaseException:
        app.close()
        raise
    return app
