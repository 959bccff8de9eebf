"""`journey replay`: rebuilds the read models from the event log alone into fresh tables (a
scratch SQLite database) with the same handlers the projectors use, then compares them with
the live tables, table by table (row counts and checksums)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import cast

from consumers.log_reader import WHOLE, LogReader
from consumers.log_shares import Share, share_reader
from consumers.replay_columns import PageDecoder
from consumers.replay_load import drop_secondary_indexes
from infrastructure.pseudonym_keys import Pseudonymizer, app_pseudonymizer
from infrastructure.sql import Database
from journey.application import JourneyApplication
from journey.events import EventEnvelope
from projections.read_models.checksum import TableSum, table_sum
from projections.read_models.handlers import apply_events
from projections.read_models.positions import stored_position
from projections.read_models.schema import READ_MODEL_TABLES, create_tables
from projections.read_models.session_runs import Decoded, apply_decoded


@dataclass(frozen=True)
class Comparison:
    live: TableSum
    rebuilt: TableSum

    @property
    def equal(self) -> bool:
        return (self.live.rows, self.live.sha256) == (self.rebuilt.rows, self.rebuilt.sha256)


Progress = Callable[[int, int, float], None]
# events per page and transaction of a rebuild: a patient's row, weeks and counters are
# written once per transaction, so larger pages write fewer of them (the live follower
# keeps its small batches: there the freshness counts)
REPLAY_BATCH = 20_000


def live_position(live: Database, app: JourneyApplication) -> int:
    """Where the live read models stand: their tracked position, else the log head."""
    with live.transaction() as unit:
        create_tables(unit)
        position = stored_position(unit)
    return app.recorder.max_notification_id() or 0 if position is None else position


def rebuild_into(
    app: JourneyApplication,
    scratch: Database,
    stop: int,
    progress: Progress | None = None,
    share: Share = WHOLE,
    *,
    tick: Callable[[int], None] | None = None,
    set_based: bool = True,
    indexed: bool = True,
) -> int:
    """Applies notifications 1..stop (those of `share`'s patients, default all) to empty
    tables in `scratch`; returns how many events were applied. `progress` hears the log
    position reached after each batch, `tick` the number of events the batch applied.
    `set_based`: SessionRecorded events decoded into columns and applied in runs
    (`read_models/session_runs.py`); False: every event as an envelope, one by one (the
    plain path, which the tests compare it with). `indexed=False`: the tables' secondary
    indexes are left out (the handlers' reads go by the keys; each insert then writes the
    key only), for a file whose rows are copied elsewhere (a worker's share)."""
    with scratch.transaction() as unit:
        create_tables(unit)
        if not indexed:
            drop_secondary_indexes(unit, READ_MODEL_TABLES)
    pseudonyms = app_pseudonymizer(app)
    done, began = 0, time.perf_counter()
    if set_based:
        pages: Iterator[tuple[int, int, list[Decoded]]] = _decoded_pages(
            app, share, pseudonyms, stop
        )
    else:
        pages = (
            (page.end, page.count, [pseudonyms(e, in_place=True) for e in page.events])
            for page in LogReader(app, share, batch=REPLAY_BATCH).pages(1, stop)
        )
    for end, count, batch in pages:
        with scratch.transaction() as unit:  # erased patients' events: not in the batch
            if set_based:
                apply_decoded(unit, batch)
            else:  # envelopes only
                apply_events(unit, cast("list[EventEnvelope]", batch))
        done += count
        if progress:
            progress(end, stop, time.perf_counter() - began)
        if tick:
            tick(count)
    return done


def _decoded_pages(
    app: JourneyApplication, share: Share, pseudonyms: Pseudonymizer, stop: int
) -> Iterator[tuple[int, int, list[Decoded]]]:
    """(last position, notifications read, decoded batch) of each page up to `stop`."""
    read, decoder, start = share_reader(app, share, REPLAY_BATCH), PageDecoder(app, pseudonyms), 1
    while start <= stop:
        page = read(start, stop)
        if not page.end:
            return
        yield page.end, len(page.notifications), decoder.decode(page.notifications)
        start = page.end + 1


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
