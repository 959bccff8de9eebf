"""Master-key rotation: re-wraps every live data key under a new master key and records
the new check value, in one transaction. Patient content does not change (stored events
are forever); keys of erased patients stay destroyed. The read models' pseudonyms come
from the master key: their format row is cleared so that the next driver rebuilds them."""

from __future__ import annotations

from typing import Any

from infrastructure import keys
from infrastructure.erasure import ERASURE_TOPIC
from infrastructure.key_check import KEY_CHECK
from journey.errors import Conflict, Issue


class RotationRefused(Conflict):
    """The store cannot be rotated (HTTP 409, CLI exit 4)."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(Issue("JOURNEY_CIPHER_KEY", rule, message))


def rotate_master_key(app: Any, new_key: str) -> int:
    """Re-wraps the data keys of `app`'s store (built with the current key) under
    `new_key`; returns how many keys were re-wrapped. Stop every other writer first."""
    keyring = getattr(app.mapper, "keyring", None)
    if keyring is None:
        raise RotationRefused("encryption_at_rest_required", "this store is plain: no key")
    new = keys.parse_master_key(new_key)
    assert new is not None
    if new == keyring.master:
        raise RotationRefused("new_key_differs", "the new key is the current key")
    store = keyring.store
    legacy = _legacy_events(app, store)
    if legacy:
        raise RotationRefused(
            "per_patient_keys_only",
            f"{legacy} stored events are encrypted with the master key itself (written "
            "before per-patient keys): they would become unreadable",
        )
    with store.cursor(commit=True) as cursor:
        if store.postgres:
            cursor.execute(f"LOCK TABLE {store.keys} IN EXCLUSIVE MODE")
        rows = store.wrapped_keys(cursor)
        rewrapped = [
            (keys.wrap(new, pid, keys.unwrap(keyring.master, pid, wrapped)), pid)
            for pid, wrapped in rows
        ]
        cursor.executemany(
            store.sql(f"UPDATE {store.keys} SET wrapped = ? WHERE patient_id = ?"), rewrapped
        )
        cursor.execute(
            store.sql(f"UPDATE {store.meta} SET value = ? WHERE name = ?"),
            (keys.check_value(new), KEY_CHECK),
        )
        if _has_table(store, cursor, "rm_format"):
            cursor.execute("DELETE FROM rm_format")  # pseudonyms change: rebuild
    return len(rewrapped)


def _legacy_events(app: Any, store: Any) -> int:
    """Stored events and snapshots not in the per-patient format (erasure markers aside)."""
    tables = [store.events]
    if app.snapshots is not None:
        prefix = f'"{store.datastore.schema}".' if store.postgres else ""
        tables.append(prefix + app.snapshots.recorder.events_table_name)
    head = "substring(state from 1 for 8)" if store.postgres else "substr(state, 1, 8)"
    total = 0
    with store.cursor(commit=False) as cursor:
        for table in tables:
            cursor.execute(
                store.sql(f"SELECT count(*) AS n FROM {table} WHERE {head} <> ? AND topic <> ?"),
                (keys.PATIENT_FORMAT, ERASURE_TOPIC),
            )
            row = cursor.fetchone()
            total += int(row["n"] if store.postgres else row[0])
    return total


def _has_table(store: Any, cursor: Any, name: str) -> bool:
    return bool(
        store._exists(cursor, f"{store.datastore.schema}.{name}" if store.postgres else name)
    )
