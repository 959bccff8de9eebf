"""The read models' application service: prepare the schema, catch up with the event log,
follow it, rebuild from it, and say how far behind the read models are. The CLI (`journey
project`, the analytics commands), the API (its start, and each answer's freshness) and the
benchmarks call this one place; the edges only translate.

Catch-up and rebuild apply the log with the one notification reader (`log_reader`) and
record the position with eventsourcing's tracking recorder, in the same transaction as the
rows (`projections.read_models.view`). Following: `ProjectionRunner` where the recorder
pushes notifications (PostgreSQL, `consumers/projection.py`), this service's thin poller
elsewhere (SQLite)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from eventsourcing.persistence import IntegrityError, Tracking

from consumers.log_reader import LogReader, Slice
from consumers.projector_hooks import CrashHook
from infrastructure.pseudonym_keys import Pseudonymizer, app_pseudonymizer
from infrastructure.sql import Unit, connect
from journey.application import JourneyApplication
from journey.events import EventEnvelope
from projections.read_models.handlers import apply_events
from projections.read_models.patients import load_patient
from projections.read_models.positions import TRACKED, locked_position
from projections.read_models.schema import READ_MODEL_TABLES, create_tables, reset_tables
from projections.read_models.unit import ReadModelUnit
from projections.read_models.view import open_view

log = logging.getLogger(__name__)
BATCH_SIZE = 500
Tick = Callable[[int], None]


@dataclass(frozen=True)
class Freshness:
    """How far the read models are behind the log (HTTP headers, CLI notes)."""

    position: int  # last notification applied to the read models
    head: int  # last notification in the log

    @property
    def lag(self) -> int:
        """Notifications not applied yet (an upper bound on PostgreSQL, whose ids may skip
        those of rolled-back transactions)."""
        return max(0, self.head - self.position)


class ReadModelService:
    def __init__(
        self,
        app: JourneyApplication,
        database_url: str,
        *,
        batch_size: int = BATCH_SIZE,
        crash: CrashHook | None = None,
    ) -> None:
        self.app = app
        self.view, self._factory = open_view(database_url)
        self.db = connect(database_url)
        self.batch_size = batch_size
        self.crash = crash or CrashHook()
        self.reader = LogReader(app, batch=batch_size)
        self._pseudonyms: Pseudonymizer | None = None

    def close(self) -> None:
        self.db.close()
        self._factory.close()

    def __enter__(self) -> ReadModelService:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def pseudonyms(self) -> Pseudonymizer:
        if self._pseudonyms is None:
            self._pseudonyms = app_pseudonymizer(self.app)
        return self._pseudonyms

    def prepare(self) -> str | None:
        """Creates the read-model tables, or drops those of another format (they are then
        rebuilt from the log): the message says so, and is logged."""
        with self.db.transaction() as unit:
            note = create_tables(unit)
        if note:
            log.warning(note)
        return note

    def position(self) -> int:
        return self.view.max_tracking_id(TRACKED) or 0

    def freshness(self) -> Freshness:
        return Freshness(self.position(), self.reader.head())

    def wait_for(self, position: int, timeout: float) -> bool:
        """Waits (at most `timeout` seconds) until the read models hold `position`."""
        try:
            self.view.wait(TRACKED, position, timeout=timeout)
        except TimeoutError:
            return False
        return True

    def apply(self, unit: Unit, envelopes: list[EventEnvelope], position: int) -> None:
        """Applies events and records `position` in the caller's transaction."""
        apply_events(unit, [self.pseudonyms(e) for e in envelopes])
        self.view.record(unit, Tracking(TRACKED, position))

    def step(self) -> int:
        """Applies the next batch of the log; returns how many notifications were read."""
        try:
            with self.db.transaction() as unit:
                page = self.reader.page(locked_position(unit) + 1)
                if page.end:
                    self._apply_page(unit, page)
        except IntegrityError:  # another worker recorded this batch first: nothing lost
            return 0
        if page.end:
            self.crash.batch_committed()
        return page.count

    def _apply_page(self, unit: Unit, page: Slice) -> None:
        work = ReadModelUnit(unit)
        erased = [self.pseudonyms.id(p) for p in page.erased]
        if any(load_patient(work, pseudonym) for pseudonym in erased):
            self._rebuild_in(unit, page.end)  # the page's events are in the rebuild
        else:
            apply_events(work, [self.pseudonyms(e) for e in page.events])
        self.view.record(unit, Tracking(TRACKED, page.end))

    def _rebuild_in(self, unit: Unit, stop: int) -> None:
        """A patient of the read models was erased: its rows and its share of every counter
        go by rebuilding the read models from the log (without the erased patients, whose
        events no longer decrypt) up to `stop`, in the caller's transaction: readers see
        the read models before or after, never in between."""
        for table in READ_MODEL_TABLES:
            unit.execute(f"DROP TABLE IF EXISTS {table}")
        create_tables(unit)
        for page in self.reader.pages(1, stop):
            apply_events(unit, [self.pseudonyms(e) for e in page.events])

    def catch_up(self, tick: Tick | None = None) -> int:
        """Applies the log up to its end; returns the number of notifications read."""
        return self.follow(once=True, tick=tick)

    def follow(
        self,
        *,
        once: bool,
        poll_seconds: float = 1.0,
        stop: threading.Event | None = None,
        tick: Tick | None = None,
    ) -> int:
        """The thin poller: applies batches until caught up (`once`) or until `stop` is
        set, polling every `poll_seconds` when caught up."""
        stop = stop or threading.Event()
        self.prepare()
        total = 0
        while not stop.is_set():
            read = self.step()
            total += read
            if tick and read:
                tick(read)
            if read < self.batch_size:
                if once:
                    break
                stop.wait(poll_seconds)
        return total

    def rebuild(self, tick: Tick | None = None) -> int:
        """Drops and recreates the read models, then applies the whole log."""
        with self.db.transaction() as unit:
            reset_tables(unit)
        return self.catch_up(tick)


class ReadModelReader:
    """Answers from the read models without writing anything: the schema is prepared once,
    when the reader is made (a process's start), then each answer reads in a read-only
    transaction and says how far behind the log the read models are."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.view, self._factory = open_view(database_url)
        db = connect(database_url)
        try:
            with db.transaction() as unit:
                note = create_tables(unit)
        finally:
            db.close()
        if note:
            log.warning(note)

    def close(self) -> None:
        self._factory.close()

    def freshness(self, app: JourneyApplication) -> Freshness:
        return Freshness(
            self.view.max_tracking_id(TRACKED) or 0, app.recorder.max_notification_id() or 0
        )

    def wait(self, position: int, seconds: float) -> bool:
        """Waits at most `seconds` for the read models to hold `position` (a projection
        worker applies it; the reader never does)."""
        if seconds <= 0:
            return self.view.has_tracking_id(TRACKED, position)
        try:
            self.view.wait(TRACKED, position, timeout=seconds)
        except TimeoutError:
            return False
        return True

    @contextmanager
    def reading(self) -> Iterator[Unit]:
        """A read-only transaction on the read models (its own connection)."""
        db = connect(self.database_url, read_only=True)
        try:
            with db.transaction(read_only=True) as unit:
                yield unit
        finally:
            db.close()
