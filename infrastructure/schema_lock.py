"""One process at a time creates or migrates a PostgreSQL store's schema.

Concurrent `CREATE TABLE IF NOT EXISTS` of the same table is not safe in PostgreSQL (both
may pass the check, and one fails on the catalog's unique index), and the key check must
be recorded by one process before others read it. Every start (API instances, relays,
projectors, the CLI) takes this advisory lock around its schema work; on SQLite the
database's own write lock already serializes it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from infrastructure.postgres_store import is_postgres

SCHEMA_LOCK = 0x6A726E79  # "jrny": the store's schema (events, anchors, keys, access trail)


@contextmanager
def schema_lock(datastore: Any) -> Iterator[None]:
    """Holds the schema lock of the store of `datastore` (PostgreSQL; a no-op otherwise)."""
    if not is_postgres(datastore):
        yield
        return
    with datastore.get_connection() as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        conn.commit()
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))
            conn.commit()
