"""Pytest plugin: real PostgreSQL 15 and Kafka for integration tests (never mocks).

Enable with `pytest_plugins = ["tests.fixtures_infra"]` in tests/conftest.py.  Where the
services come from is decided in devtools/provision.py (environment, then Docker, then the local
binaries of devtools/services.py).  When none is available the fixture fails, it does not skip:
a CI run without its services must be red.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devtools import provision


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a PostgreSQL 15 database shared by the whole session."""
    try:
        with provision.postgres_server() as url:
            yield url
    except provision.InfraUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def fresh_postgres_url(postgres_url: str) -> Iterator[str]:
    """URL of a new, empty database on the same server, dropped after the test."""
    url = provision.create_database(postgres_url)
    try:
        yield url
    finally:
        provision.drop_database(url)


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """Bootstrap servers (host:port) of a Kafka broker shared by the whole session."""
    try:
        with provision.kafka_server() as bootstrap:
            yield bootstrap
    except provision.InfraUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
