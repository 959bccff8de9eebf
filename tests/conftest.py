"""Shared fixtures: the same application tests run on every store (SQLite, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from config.settings import Settings
from journey.application import JourneyApplication
from services.bootstrap import build_application

pytest_plugins = ["tests.fixtures_infra"]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty store of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/journey.db"
    url: str = request.getfixturevalue("fresh_postgres_url")
    return url


@pytest.fixture
def make_app(store_url: str) -> Iterator[Callable[..., JourneyApplication]]:
    """Builds applications on the test's store; each is closed after the test."""
    built: list[JourneyApplication] = []

    def make(**overrides: object) -> JourneyApplication:
        settings = Settings(database_url=store_url, **overrides)  # type: ignore[arg-type]
        application = build_application(settings)
        built.append(application)
        return application

    yield make
    for application in built:
        application.close()


@pytest.fixture
def app(make_app: Callable[..., JourneyApplication]) -> JourneyApplication:
    return make_app()
