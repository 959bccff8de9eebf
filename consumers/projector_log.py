"""The log follower: applies the notification log to the read models, batch after batch,
each batch and the new position (rm_tracking) in one transaction. SQLite cannot push
notifications, so both stores are polled. Rebuild = reset the tables, follow from 0."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from consumers.projector_hooks import CrashHook
from infrastructure.erasure import is_marker, readable
from infrastructure.pseudonym_keys import Pseudonymizer, app_pseudonymizer
from infrastructure.sql import Database, Unit
from journey.application import JourneyApplication
from journey.domain_events import PatientEvent
from journey.envelopes import to_envelope
from projections.read_models.handlers import apply_events
from projections.read_models.patients import load_patient
from projections.read_models.positions import lock_position, save_position
from projections.read_models.schema import READ_MODEL_TABLES, create_tables, reset_tables

TRACKING_NAME = "rm-log"
BATCH_SIZE = 500


@dataclass
class LogFollower:
    app: JourneyApplication
    db: Database
    name: str = TRACKING_NAME
    batch_size: int = BATCH_SIZE
    crash: CrashHook = field(default_factory=CrashHook)
    pseudonyms: Pseudonymizer | None = None  # the store's (infrastructure.pseudonym_keys)

    def _pseudonymizer(self) -> Pseudonymizer:
        if self.pseudonyms is None:
            self.pseudonyms = app_pseudonymizer(self.app)
        return self.pseudonyms

    def step(self) -> int:
        """Applies the next batch of notifications; returns how many were read."""
        with self.db.transaction() as unit:
            position = lock_position(unit, self.name)
            notifications = self.app.recorder.select_notifications(
                start=position + 1, limit=self.batch_size, inclusive_of_start=True
            )
            pseudonyms, envelopes = self._pseudonymizer(), []
            for event in readable(self.app.mapper, notifications):  # erased: skipped
                assert isinstance(event, PatientEvent)
                envelopes.append(pseudonyms(to_envelope(event)))
            apply_events(unit, envelopes)
            erased = [pseudonyms.id(str(n.originator_id)) for n in notifications if is_marker(n)]
            if any(load_patient(unit, pseudonym) for pseudonym in erased):
                self._rebuild_in(unit, notifications[-1].id)
            if notifications:
                save_position(unit, self.name, notifications[-1].id)
        if notifications:
            self.crash.batch_committed()
        return len(notifications)

    def _rebuild_in(self, unit: Unit, stop: int) -> None:
        """A patient of the read models was erased: its rows and its share of every counter
        go by rebuilding the read models from the log (without the erased patients, whose
        events no longer decrypt) up to `stop`, in the caller's transaction: readers see
        the read models before or after, never in between."""
        for table in READ_MODEL_TABLES:
            unit.execute(f"DROP TABLE IF EXISTS {table}")
        create_tables(unit)
        start = 1
        while start <= stop:
            page = self.app.recorder.select_notifications(
                start=start, limit=self.batch_size, stop=stop, inclusive_of_start=True
            )
            if not page:
                break
            events = readable(self.app.mapper, page)
            pseudonyms = self._pseudonymizer()
            apply_events(unit, [pseudonyms(to_envelope(e)) for e in events])
            start = page[-1].id + 1

    def position(self) -> int:
        with self.db.transaction() as unit:
            return lock_position(unit, self.name)


def follow_log(
    follower: LogFollower,
    *,
    once: bool,
    poll_seconds: float = 1.0,
    stop: threading.Event | None = None,
    tick: Callable[[int], None] | None = None,
) -> int:
    """Follows the log until caught up (`once`) or until `stop` is set; returns the number
    of notifications read (`tick` hears each batch's count)."""
    stop = stop or threading.Event()
    with follower.db.transaction() as unit:
        create_tables(unit)
    total = 0
    while not stop.is_set():
        read = follower.step()
        total += read
        if tick and read:
            tick(read)
        if read < follower.batch_size:
            if once:
                break
            stop.wait(poll_seconds)
    return total


def rebuild(follower: LogFollower, tick: Callable[[int], None] | None = None) -> int:
    """Drops and recreates the rm_ tables, then replays the whole log; returns its length."""
    with follower.db.transaction() as unit:
        reset_tables(unit)
    return follow_log(follower, once=True, tick=tick)
