"""Recorders for eventsourcing's own test cases, built as the composition root builds them.

`services.bootstrap` gives the library's infrastructure factory our settings: the database
URL through `config.storage.persistence_env`, the anchored application recorders, text
originator ids (`JourneyApplication`). The mixins below do the same on a real SQLite file or
a new database on the real PostgreSQL server, so the library's cases test the classes in the
configuration that stores patients' events. `UUID_IDS` runs them with the library's default
(UUID originator ids) too."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    InfrastructureFactory,
    TrackingRecorder,
)
from eventsourcing.utils import Environment

from config.storage import persistence_env
from services.bootstrap import ANCHORED_RECORDERS


class OurStore:
    """Factories made from our settings; closed after each test."""

    database_url: str
    originator_id_type: Literal["uuid", "text"] = "text"  # as JourneyApplication stores
    _factories: list[InfrastructureFactory[Any]]

    def new_originator_id(self) -> UUID | str:
        if self.originator_id_type == "uuid":
            return uuid4()
        return f"patient-{uuid4().hex[:12]}"  # our ids are opaque strings

    def factory(self) -> InfrastructureFactory[Any]:
        env = persistence_env(self.database_url)
        env["APPLICATION_RECORDER_TOPIC"] = ANCHORED_RECORDERS[env["PERSISTENCE_MODULE"]]
        env["ORIGINATOR_ID_TYPE"] = self.originator_id_type
        env["CREATE_TABLE"] = "y"
        made = InfrastructureFactory.construct(Environment(env=env))
        self._factories.append(made)
        return made

    def application_recorder(self) -> ApplicationRecorder:
        recorder = self.factory().application_recorder()
        assert type(recorder).__module__.startswith("infrastructure.anchored_")
        return recorder

    def snapshot_recorder(self) -> AggregateRecorder:
        """The aggregate recorder our applications keep snapshots in (the library's class)."""
        return self.factory().aggregate_recorder(purpose="snapshots")

    def tracking_recorder(self, kind: type[TrackingRecorder] | None = None) -> TrackingRecorder:
        """The tracking recorder our settings give (the relay's), or a subclass `kind`."""
        return self.factory().tracking_recorder(kind)

    def _close(self, threads_before: set[threading.Thread]) -> None:
        """Closes the factories once the threads a case started have ended: the library's
        `test_concurrent_no_conflicts` signals its reader threads to stop without joining
        them, and closing a SQLite connection another thread is reading crashes sqlite3."""
        for thread in set(threading.enumerate()) - threads_before:
            if not thread.daemon:  # daemons are the pools' own workers: they end on close
                thread.join(timeout=30)
        for made in self._factories:
            made.close()


class UUIDIds:
    """The library's default originator id type (its test data uses UUIDs)."""

    originator_id_type: Literal["uuid", "text"] = "uuid"


class SQLiteStore(OurStore):
    @pytest.fixture(autouse=True)
    def _sqlite(self, tmp_path: Path) -> Iterator[None]:
        self.database_url = f"sqlite:///{tmp_path}/library.db"
        self._factories = []
        threads = set(threading.enumerate())
        yield
        self._close(threads)


class PostgresStore(OurStore):
    @pytest.fixture(autouse=True)
    def _postgres(self, fresh_postgres_url: str) -> Iterator[None]:
        self.database_url = fresh_postgres_url
        self._factories = []
        threads = set(threading.enumerate())
        yield
        self._close(threads)
