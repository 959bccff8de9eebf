"""Fixtures of the application tests: two stores of one kind, applications on them, a frozen
recording clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from config.settings import Settings
from devtools import provision
from journey.application import JourneyApplication
from services.bootstrap import build_application
from tests.app.bulk_support import RECORDED


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def two_stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two fresh stores of one kind: the normal path's, then the bulk path's."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/normal.db", f"sqlite:///{tmp_path}/bulk.db"
        return
    server: str = request.getfixturevalue("postgres_url")
    urls = [provision.create_database(server), provision.create_database(server)]
    try:
        yield urls[0], urls[1]
    finally:
        for url in urls:
            provision.drop_database(url)


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every event and snapshot is recorded at RECORDED (in this process): runs that decide
    the same commands then store the same bytes, chain hashes included."""
    monkeypatch.setattr("eventsourcing.domain.datetime_now_with_tzinfo", lambda: RECORDED)


@pytest.fixture
def open_app() -> Iterator[Callable[..., JourneyApplication]]:
    """Builds an application on a store URL; each is closed after the test."""
    built: list[JourneyApplication] = []

    def build(url: str, **settings: Any) -> JourneyApplication:
        built.append(build_application(Settings(database_url=url, **settings)))
        return built[-1]

    yield build
    for app in built:
        app.close()
