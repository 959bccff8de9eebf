"""Replay and compare (`journey replay`): the read models rebuilt from the event log alone
into a scratch SQLite file, in one process or in worker processes (`replay_parallel`), then
compared with the live ones, table by table (rows and checksum: `consumers.replay`)."""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from config.settings import Settings
from consumers.replay import Comparison, compare, live_position, rebuild_into, tables_for
from infrastructure.sql import connect
from projections.read_models.checksum import TableSum, table_sum
from projections.read_models.schema import POSITION_TABLES, READ_MODEL_TABLES
from services.replay_parallel import SharePool, rebuild_summed
from services.runtime import Runtime, open_scratch

__all__ = ["Replayed", "replay_and_compare", "replay_position", "store_sums", "tables_for"]


@dataclass(frozen=True)
class Replayed:
    """What a replay did: events applied (log positions 1..stop), where, what it found."""

    events: int
    stop: int
    scratch: Path
    comparisons: list[Comparison]

    @property
    def equal(self) -> bool:
        return all(c.equal for c in self.comparisons)


def replay_position(runtime: Runtime) -> int:
    """Where the live read models stand (the log follower's position, else the log head):
    the replay stops there, so that both sides saw the same events."""
    return live_position(runtime.database, runtime.application)


def replay_and_compare(
    runtime: Runtime,
    tables: Sequence[str],
    *,
    stop: int,
    workers: int,
    keep: Path | None = None,
    tick: Callable[[int], None] | None = None,
    pool: SharePool | None = None,
) -> Replayed:
    """Rebuilds notifications 1..stop into a scratch file (`keep`, else a temporary one,
    removed afterwards) and compares `tables` with the live ones; `tick` hears the number
    of events applied as they are. `pool`: the `workers` processes, when the caller
    started them before it opened the store (`SharePool`); else they are spawned here."""
    scratch_file = keep or Path(tempfile.mkdtemp(prefix="journey-replay-")) / "replay.db"
    scratch_file.unlink(missing_ok=True)
    try:
        count = 0
        if workers > 1:
            url = runtime.settings.database_url
            with _summing(url, tables) as live_sums:  # while the workers replay
                summed = rebuild_summed(
                    url,
                    stop,
                    scratch_file,
                    workers,
                    tables,
                    keep=keep is not None,
                    tick=tick,
                    pool=pool,
                )
            count = summed.events
            comparisons = [Comparison(s, summed.sums[s.table]) for s in live_sums()]
        else:
            with closing(open_scratch(scratch_file)) as scratch:
                count = rebuild_into(runtime.application, scratch, stop, tick=tick)
                comparisons = compare(runtime.database, scratch, tables)
    finally:
        if keep is None:
            shutil.rmtree(scratch_file.parent, ignore_errors=True)
    return Replayed(count, stop, scratch_file, comparisons)


@contextmanager
def _summing(database_url: str, tables: Sequence[str]) -> Iterator[Callable[[], list[TableSum]]]:
    """Sums the live `tables` in a thread (its own connection) while the block runs: the
    main process only waits for the worker processes then. Yields the sums' getter (it
    re-raises the thread's error)."""
    found: list[TableSum] = []
    failed: list[BaseException] = []

    def run() -> None:
        try:
            db = connect(database_url)
            try:
                found.extend(table_sum(db, t) for t in tables)
            finally:
                db.close()
        except BaseException as error:  # handed to the caller by sums()
            failed.append(error)

    def sums() -> list[TableSum]:
        if failed:
            raise failed[0]
        return found

    thread = threading.Thread(target=run, name="replay-live-sums", daemon=True)
    thread.start()
    try:
        yield sums
    finally:
        thread.join()


def store_sums(database_url: str) -> dict[str, TableSum]:
    """Rows and checksum of every rm_ table of a store, the positions' included."""
    with Runtime(Settings(database_url=database_url)) as runtime:
        db = runtime.database
        return {t: table_sum(db, t) for t in (*READ_MODEL_TABLES, *POSITION_TABLES)}
