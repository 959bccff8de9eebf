"""Whether a store is PostgreSQL, asked without importing psycopg: eventsourcing's
PostgreSQL datastore and recorders exist only once a PostgreSQL store imported their
module, so a SQLite command (`journey import`) never pays for the driver."""

from __future__ import annotations

import sys
from typing import Any


def is_postgres(store: Any) -> bool:
    """Whether `store` (a datastore or a recorder) is eventsourcing's PostgreSQL one."""
    module = sys.modules.get("eventsourcing.postgres")
    return module is not None and isinstance(
        store, (module.PostgresDatastore, module.PostgresRecorder)
    )
