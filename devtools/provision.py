"""Test infrastructure helpers, independent of pytest: where PostgreSQL and Kafka come from.

Order of preference, for each service:
1. an address given in the environment (`JOURNEY_TEST_POSTGRES_URL`,
   `JOURNEY_TEST_KAFKA_BOOTSTRAP_SERVERS`), e.g. from `.services.env` or CI;
2. a container via testcontainers, when a Docker engine answers;
3. the local services of `devtools/services.py` (PostgreSQL 15 binaries, Kafka jars from Maven),
   started on demand and stopped again if this process started them.
Nothing is mocked: when none of the three works, `InfraUnavailable` says why.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from devtools import services

PG_ENV = "JOURNEY_TEST_POSTGRES_URL"
KAFKA_ENV = "JOURNEY_TEST_KAFKA_BOOTSTRAP_SERVERS"
PG_IMAGE = "postgres:15"
# testcontainers' KafkaContainer drives Confluent's image scripts (KRaft from 7.0 on).
KAFKA_IMAGE = "confluentinc/cp-kafka:7.9.0"


class InfraUnavailable(RuntimeError):
    """No way to provide a real service: no env address, no Docker engine, no local binaries."""


def docker_available() -> bool:
    """True when a Docker engine answers (a docker client alone is not enough)."""
    try:
        import docker  # type: ignore[import-untyped,unused-ignore]

        docker.from_env(timeout=3).ping()
    except Exception:  # no engine, no socket, no permission: all mean "no"
        return False
    return True


def _keep_local_services() -> bool:
    """Leave services we started running: other xdist workers may still be using them."""
    return bool(
        os.environ.get("PYTEST_XDIST_WORKER") or os.environ.get("JOURNEY_TEST_KEEP_SERVICES")
    )


@contextlib.contextmanager
def _local(postgres: bool) -> Iterator[str]:
    was_running = services.pg_running() if postgres else services.kafka_running()
    try:
        ends = services.up(postgres=postgres, kafka=not postgres)
    except (services.ServiceError, OSError) as exc:
        what = "PostgreSQL 15" if postgres else "Kafka"
        raise InfraUnavailable(
            f"cannot start local {what} via devtools/services.py: {exc}\n"
            f"Set {PG_ENV if postgres else KAFKA_ENV}, start a Docker engine, or install "
            "the PostgreSQL 15 binaries / Java 17 + Maven (see devtools/services.py)."
        ) from exc
    address = ends.postgres_url if postgres else ends.kafka_bootstrap
    assert address is not None
    try:
        yield address
    finally:
        if not was_running and not _keep_local_services():
            services.down(postgres=postgres, kafka=not postgres)


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """A PostgreSQL 15 URL (libpq form) for the whole session."""
    if url := os.environ.get(PG_ENV):
        yield url
    elif docker_available():
        from testcontainers.community.postgres import PostgresContainer

        container = PostgresContainer(
            PG_IMAGE, username="journey", password="journey", dbname="journey", driver=None
        )
        with container:
            yield container.get_connection_url()
    else:
        with _local(postgres=True) as url:
            yield url


@contextlib.contextmanager
def kafka_server() -> Iterator[str]:
    """A Kafka bootstrap address (host:port) for the whole session."""
    if bootstrap := os.environ.get(KAFKA_ENV):
        yield bootstrap
    elif docker_available():
        from testcontainers.community.kafka import KafkaContainer

        container = (
            KafkaContainer(KAFKA_IMAGE)
            .with_kraft()
            .with_env("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1")
            .with_env("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1")
        )
        container.start(timeout=120)
        try:
            yield container.get_bootstrap_server()
        finally:
            container.stop()
    else:
        with _local(postgres=False) as bootstrap:
            yield bootstrap


def with_database(url: str, dbname: str) -> str:
    """The same server and credentials, another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


def _admin_connect(url: str) -> psycopg.Connection[tuple[object, ...]]:
    """Autocommit connection to the server's maintenance db (or the URL's db as fallback)."""
    try:
        return psycopg.connect(with_database(url, "postgres"), autocommit=True, connect_timeout=10)
    except psycopg.OperationalError:
        return psycopg.connect(url, autocommit=True, connect_timeout=10)


def create_database(url: str, prefix: str = "journey_test") -> str:
    """CREATE a uniquely named database on the server of `url`; return its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with _admin_connect(url) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return with_database(url, name)


def drop_database(url: str, attempts: int = 20) -> None:
    """DROP the database of `url`, immune to the races of a teardown.

    Only client sessions of our own role are terminated: an autovacuum worker (a backend
    without a role, which PostgreSQL 15 treats as a superuser's) cannot be terminated by a
    non-superuser, and DROP DATABASE itself stops autovacuum workers. A session that (re)
    connects in between makes DROP fail with "being accessed by other users": retried."""
    name = urlsplit(url).path.lstrip("/")
    with _admin_connect(url) as conn:
        for attempt in range(attempts):
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s"
                " AND pid <> pg_backend_pid() AND usename = current_user"
                " AND backend_type = 'client backend'",
                (name,),
            )
            try:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
            except psycopg.errors.ObjectInUse:
                if attempt == attempts - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))
            else:
                return
