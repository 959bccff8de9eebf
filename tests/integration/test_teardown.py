"""Test teardown is immune to sessions it may not or need not end itself.

`drop_database` once failed a landing with "must be a superuser to terminate superuser
process": it called pg_terminate_backend on every session of the test database, and an
autovacuum worker (a process PostgreSQL 15 treats as a superuser's) was one of them. Here a
superuser's session plays that worker: it is on the database when the teardown starts and
goes away shortly after, as an autovacuum worker does when DROP DATABASE signals it. The
local cluster of devtools/services.py trusts loopback connections, so the test connects as
the `postgres` superuser; elsewhere it is skipped, saying why."""

from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit

import psycopg
import pytest

from devtools import provision

pytestmark = pytest.mark.postgres


def superuser_url(url: str) -> str:
    parts = urlsplit(url)
    return parts._replace(netloc=f"postgres@{parts.hostname}:{parts.port or 5432}").geturl()


def test_drop_database_outlasts_a_session_it_may_not_terminate(postgres_url: str) -> None:
    url = provision.create_database(postgres_url)
    try:
        other = psycopg.connect(superuser_url(url), connect_timeout=5, autocommit=True)
    except psycopg.OperationalError as error:
        provision.drop_database(url)
        pytest.skip(f"no superuser session on this server (trust auth only locally): {error}")
    mine = psycopg.connect(url, autocommit=True)  # a client session of ours, left open
    leaves = threading.Timer(1.0, other.close)
    leaves.start()
    started = time.monotonic()
    try:
        provision.drop_database(url)
    finally:
        leaves.cancel()
        other.close()
    assert time.monotonic() - started < 30
    with psycopg.connect(postgres_url) as conn:
        name = urlsplit(url).path.lstrip("/")
        gone = conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (name,))
        assert gone.fetchone() == (0,)
    with pytest.raises(psycopg.OperationalError):  # our own session was ended
        mine.execute("SELECT 1")
    mine.close()
