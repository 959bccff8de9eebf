"""Where the relay's batches are prepared: read a page of the log, decode it, build its
event records and the touched patients' summaries (`relay_batch.build_batch`).

`InlinePreparer` does it in the relay's process. `WorkerPreparer` does the same in a child
process on the same store, one batch ahead: while the relay sends batch N, flushes it and
records its position, the child already prepares the page after N. Preparing costs more
CPU than kafka-python's `send` of the same records (about 36 against 23 µs per event here,
docs/benchmarks.md, seventh pass), and both are pure Python, so in one process they would
take turns on the interpreter lock; the child puts the preparing on the second core. The
relay still asks for each batch by its start position (its recorded position + 1), so a
batch prepared ahead is used only if it starts there; after a failed
attempt (`reset`) the child drops it and its cached histories and starts again from the
position asked for. What is published, and when the position moves, is unchanged."""

from __future__ import annotations

import gc
import multiprocessing
import os
import traceback
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Protocol

from config.settings import Settings
from consumers.log_reader import LogReader
from journey.application import JourneyApplication
from journey.envelopes import to_envelope
from journey.events import EventEnvelope
from publishing.cloudevents import EventParts, event_headers, event_parts
from publishing.history_cache import HistoryCache
from publishing.publisher import Wire
from publishing.relay_batch import Outgoing, state_outgoing
from publishing.topics import TopicNames
from services.bootstrap import build_application
from services.bulk.orphans import die_with_parent, start_method

RESET = "reset"
# fork (`start_method`): the worker starts in milliseconds, with the modules already
# imported (spawn re-imports them: seconds). It opens its own application; it never uses
# the relay's connections. Spawned when the relay already runs other threads (its
# producer's, a position writer): a lock they hold at a fork would stay held in the worker.
WORKER_GC_THRESHOLD = 1_000_000  # tracked objects allocated, net, between young collections
REPLY_POLL_S = 1.0  # how often a waiting relay checks that its worker is alive


@dataclass(frozen=True)
class Prepared:
    """A batch as the publisher sends it; its records are plain tuples, which cross the
    process boundary several times faster than the dataclasses of relay_batch.

    Prepared inline, `records` holds the event records only and `later` computes the rest
    (summaries, tombstones): the relay sends the events first, so that downstream does not
    wait for the summaries. From the worker, `records` is the whole batch."""

    start: int  # the first log position asked for
    end: int  # the last position the page covers
    count: int  # notifications in the page (an erased patient's have no event record)
    events: int  # event records; the other records are summaries or tombstones
    records: list[Wire]
    later: Callable[[], list[Wire]] | None = field(default=None, compare=False)

    def rest(self) -> list[Wire]:
        """The records of the batch not in `records` (call once, after sending those)."""
        return [] if self.later is None else self.later()


@dataclass(frozen=True)
class _Packed:
    """A batch as the worker hands it over: the event records as their parts (a flat tuple
    of bytes each, `cloudevents.EventParts`), the summaries and tombstones as records. The
    relay's process builds the event records' headers (`unpacked`): that halves what
    crosses the pipe and moves work off the worker, the busier of the two processes."""

    start: int
    end: int
    count: int
    parts: list[EventParts]
    rest: list[Wire]

    def unpacked(self, events_topic: str) -> Prepared:
        events = _event_wires(events_topic, self.parts)
        return Prepared(self.start, self.end, self.count, len(events), events + self.rest)


class Preparer(Protocol):
    def prepare(self, start: int) -> Prepared | None:
        """The batch of the page starting at `start`; None when the log has nothing there."""

    def ahead(self, start: int) -> None:
        """A hint: the page at `start` is asked for next; a preparer that can starts on it
        now (the relay gives it while it connects to the broker)."""

    def reset(self) -> None:
        """Forgets what was prepared ahead and the cached histories (after a failure)."""

    def close(self) -> None: ...


class WorkerFailed(RuntimeError):
    """The worker could not prepare a batch (its traceback is the message) or exited."""


def history_loader(app: JourneyApplication) -> Callable[[str, int], list[EventEnvelope]]:
    def load(patient_id: str, up_to_version: int) -> list[EventEnvelope]:
        events = app.events.get(patient_id, lte=up_to_version)
        return [to_envelope(e) for e in events]  # type: ignore[arg-type]

    return load


class InlinePreparer:
    def __init__(
        self, app: JourneyApplication, topics: TopicNames, batch_size: int, history_size: int
    ) -> None:
        self._reader = LogReader(app, batch=batch_size)
        self._histories = HistoryCache(history_loader(app), history_size)
        self._topics = topics

    def prepare(self, start: int) -> Prepared | None:
        page = self._reader.page(start)
        if not page.end:
            return None
        events = _event_wires(self._topics.events, [event_parts(e) for e in page.events])

        def later() -> list[Wire]:
            return _wire(state_outgoing(page, self._histories, self._topics))

        return Prepared(start, page.end, page.count, len(events), events, later)

    def packed(self, start: int) -> _Packed | None:
        """The whole batch at `start`, for the trip to the relay's process."""
        page = self._reader.page(start)
        if not page.end:
            return None
        parts = [event_parts(e) for e in page.events]
        rest = _wire(state_outgoing(page, self._histories, self._topics))
        return _Packed(start, page.end, page.count, parts, rest)

    def ahead(self, start: int) -> None:
        return None  # prepared when asked for, in this process

    def reset(self) -> None:
        self._histories.clear()

    def close(self) -> None:
        return None


class SplitPreparer:
    """The worker prepares the pages of a catch-up (the page before was full: more is
    waiting, and preparing ahead overlaps with sending); the small pages of a relay that
    keeps up are prepared inline, without the round trip to another process (which,
    on a busy machine, waits for that process to be scheduled). Each keeps its own
    histories; a patient's history that is behind is read back from the store."""

    def __init__(self, inline: Preparer, worker: Preparer, batch_size: int) -> None:
        self._inline, self._worker, self._batch_size = inline, worker, batch_size
        self._catching_up = True  # a relay starts behind, as a rule

    def prepare(self, start: int) -> Prepared | None:
        found = (self._worker if self._catching_up else self._inline).prepare(start)
        self._catching_up = found is not None and found.count >= self._batch_size
        return found

    def ahead(self, start: int) -> None:
        if self._catching_up:
            self._worker.ahead(start)

    def reset(self) -> None:
        self._inline.reset()
        self._worker.reset()

    def close(self) -> None:
        self._worker.close()


@dataclass(frozen=True)
class _Failure:
    trace: str


class WorkerPreparer:
    """An InlinePreparer in a child process, started at once (see start_method)."""

    def __init__(
        self, settings: Settings, topics: TopicNames, batch_size: int, history_size: int
    ) -> None:
        self._config = {
            "settings": settings.model_dump(),
            "topics": topics,
            "batch_size": batch_size,
            "history_size": history_size,
            "parent": os.getpid(),
        }
        self._events_topic = topics.events
        self._process: Any = None
        self._conn: Any = None
        self._pending: int | None = None  # the start asked for by `ahead`, not yet collected
        self._started()

    def prepare(self, start: int) -> Prepared | None:
        self.ahead(start)
        self._pending = None
        reply = self._reply()
        if isinstance(reply, _Failure):
            raise WorkerFailed(reply.trace)
        assert reply is None or isinstance(reply, _Packed)
        return None if reply is None else reply.unpacked(self._events_topic)

    def ahead(self, start: int) -> None:
        """Asks the worker for the page at `start` without waiting for it; a page asked for
        before and not collected is dropped (each request has exactly one reply)."""
        if self._pending == start:
            return
        self._drop_pending()
        self._started().send(start)
        self._pending = start

    def reset(self) -> None:
        if self._conn is not None:
            self._drop_pending()
            self._conn.send(RESET)

    def _drop_pending(self) -> None:
        if self._pending is not None:
            self._pending = None
            self._reply()  # its batch, or its failure: the page is asked for again

    def close(self) -> None:
        with suppress(WorkerFailed, OSError):  # a reply left unread would block its sender
            self._drop_pending()
        if self._process is None:
            return
        with suppress(OSError):  # the worker already exited
            self._conn.send(None)
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()
        self._conn.close()
        self._process = self._conn = self._pending = None

    def _started(self) -> Any:
        if self._process is None:
            context: Any = multiprocessing.get_context(start_method())
            self._conn, child = context.Pipe()
            self._process = context.Process(
                target=_serve, args=(self._config, child), name="relay-preparer", daemon=True
            )
            self._process.start()
            child.close()
        return self._conn

    def _reply(self) -> object:
        while not self._conn.poll(REPLY_POLL_S):
            if not self._process.is_alive():
                code = self._process.exitcode
                self.close()
                raise WorkerFailed(f"the relay's preparing worker exited ({code})")
        return self._conn.recv()


def _wire(outgoing: list[Outgoing]) -> list[Wire]:
    return [(o.topic, o.record.key, o.record.value, o.record.headers) for o in outgoing]


def _event_wires(topic: str, parts: list[EventParts]) -> list[Wire]:
    """The event records of `parts` (what `relay_batch.event_outgoing` gives, as tuples)."""
    return [(topic, p[0], p[1], event_headers(p)) for p in parts]


def _serve(config: dict[str, Any], conn: Any) -> None:
    """The worker: answers each start position with its batch, packed (or None, or a
    _Failure), then prepares the next page ahead while the relay publishes."""
    die_with_parent(config["parent"])
    app = build_application(Settings(**config["settings"]), create_tables=False)
    # What the worker inherited and built (modules, schemas, its application; forked, the
    # relay's whole heap) is never garbage: frozen, no collection scans it again. And a
    # batch makes some 200,000 objects that live until it is sent (its records, the
    # histories' new envelopes) and no cycles: collected every 700 allocations, as by
    # default, each was scanned again and again, and promoted, setting off scans of the
    # whole heap; that was 8-14 µs of the worker's 44-48 per event here. The young
    # generation is now collected every WORKER_GC_THRESHOLD allocations (net of the objects
    # freed): about once in 40 batches, and cycles are still collected (docs/benchmarks.md,
    # seventh pass).
    gc.freeze()
    gc.set_threshold(WORKER_GC_THRESHOLD, 10, 10)
    inline = InlinePreparer(app, config["topics"], config["batch_size"], config["history_size"])
    ahead: _Packed | None = None
    try:
        while (message := conn.recv()) is not None:
            if message == RESET:
                inline.reset()
                ahead = None
                continue
            try:
                if ahead is None or ahead.start != message:
                    ahead = inline.packed(message)
            except Exception:  # handed to the relay, which raises it
                inline.reset()
                ahead = None
                conn.send(_Failure(traceback.format_exc()))
                continue
            found, ahead = ahead, None
            conn.send(found)
            ahead = _ahead(inline, found)
    finally:
        app.close()


def _ahead(inline: InlinePreparer, sent: _Packed | None) -> _Packed | None:
    """The page after `sent`, prepared while the relay publishes it (None when caught up:
    the next request reads the log again). After a failure here the page is prepared
    again when asked for, and a failure that persists is then handed to the relay."""
    if sent is None:
        return None
    try:
        return inline.packed(sent.end + 1)
    except Exception:  # not hidden: raised again when the page is asked for
        inline.reset()
        return None
