"""`journey replay`: rebuilds the read models from the event log alone into fresh tables (a
scratch SQLite database) with the same handlers the projectors use, then compares them with
the live tables, table by table (row counts and checksums)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from consumers.log_shares import Share, share_reader
from infrastructure.erasure import readable
from infrastructure.pseudonym_keys import app_pseudonymizer
from infrastructure.sql import Database
from journey.application import JourneyApplication
from journey.domain_events import PatientEvent
from journey.envelopes import to_envelope
from projections.read_models.checksum import TableSum, table_sum
from projections.read_models.handlers import apply_event
from projections.read_models.schema import READ_MODEL_TABLES, create_tables

LIVE_TRACKING = "rm-log"
WHOLE = Share()


@dataclass(frozen=True)
class Comparison:
    live: TableSum
    rebuilt: TableSum

    @property
    def equal(self) -> bool:
        return (self.live.rows, self.live.sha256) == (self.rebuilt.rows, self.rebuilt.sha256)


Progress = Callable[[int, int, float], None]


def live_position(live: Database, app: JourneyApplication) -> int:
    """Where the live read models stand: the log follower's position, else the log head."""
    with live.transaction() as unit:
        create_tables(unit)
        row = unit.one("SELECT position FROM rm_tracking WHERE name = ?", (LIVE_TRACKING,))
    return int(row[0]) if row else app.recorder.max_notification_id() or 0


def rebuild_into(
    app: JourneyApplication,
    scratch: Database,
    stop: int,
    progress: Progress | None = None,
    share: Share = WHOLE,
    *,
    tick: Callable[[int], None] | None = None,
) -> int:
    """Applies notifications 1..stop (those of `share`'s patients, default all) to empty
    tables in `scratch`; returns how many events were applied. `progress` hears the log
    position reached after each batch, `tick` the number of events the batch applied."""
    with scratch.transaction() as unit:
        create_tables(unit)
    read = share_reader(app, share)
    pseudonyms = app_pseudonymizer(app)
    done, start, began = 0, 1, time.perf_counter()
    while start <= stop:
        page = read(start, stop)
        if not page.end:
            break
        with scratch.transaction() as unit:
            for event in readable(app.mapper, page.notifications):  # erased patients: none
                assert isinstance(event, PatientEvent)
                apply_event(unit, pseudonyms(to_envelope(event), in_place=True))
        done += len(page.notifications)
        start = page.end + 1
        if progress:
            progress(page.end, stop, time.perf_counter() - began)
        if tick:
            tick(len(page.notifications))
    return done


def compare(live: Database, rebuilt: Database, tables: Sequence[str]) -> list[Comparison]:
    return [Comparison(table_sum(live, t), table_sum(rebuilt, t)) for t in tables]


def tables_for(projection: str | None) -> tuple[str, ...]:
    """`patients`, `stays`... or all read-model tables when None."""
    if projection is None:
        return READ_MODEL_TABLES
    table = projection if projection.startswith("rm_") else f"rm_{projection}"
    if table not in READ_MODEL_TABLES:
        names = ", ".join(t.removeprefix("rm_") for t in READ_MODEL_TABLES)
        raise ValueError(f"unknown projection '{projection}'; known: {names}")
    return (table,)
