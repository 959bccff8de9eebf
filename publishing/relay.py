"""The publishing relay: follows the notification log (the event store is the outbox) from
its own tracked position and publishes every event, then the touched patients' summaries,
then the anchor head of the log up to the batch's last event (publishing.anchor_head).
A batch prepared inline (a relay keeping up) has its event records sent before its
summaries are computed, so downstream does not wait for the summaries; the head check
comes before any send, and the position waits for every record of the batch.

A batch is at most `batch_size` notifications (5,000 by default: the summaries are computed
once per patient per batch, so bigger catch-up batches cost fewer summaries). Its records
are sent, flushed and every future checked; only then is the position advanced (in the
events' own SQL store; while `run` runs, by a thread of its own, so that publishing does
not wait for the store's write lock: `relay_position.PositionWriter`, which coalesces the
positions of the small batches of a relay keeping up and holds the relay back only beyond
`batch_size` unrecorded notifications). A crash re-publishes from the position last
written, at most 2 x `batch_size` notifications: delivery is at least once, and nothing
is ever lost.
When the broker is unreachable, `run` logs, backs off exponentially and retries the same
slice with a fresh producer; the position does not move, and the write path (which never
touches Kafka) keeps accepting commands. When caught up it polls the log every
`busy_poll_s` (2 ms) within a second of the last event, then every `poll_interval_s` (20 ms
default: one indexed SELECT on an idle store); a stop request ends the wait at once.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from kafka.errors import KafkaConfigurationError, KafkaError

from config.settings import Settings
from journey.application import JourneyApplication
from publishing.anchor_head import HeadUnavailable, head_record
from publishing.publisher import Publisher, PublishFailed
from publishing.relay_heads import HeadKeeper
from publishing.relay_position import Lag, PositionWriter, RelayPosition
from publishing.relay_worker import InlinePreparer, Preparer, SplitPreparer, WorkerPreparer
from publishing.topics import TopicNames, ensure_topics

log = logging.getLogger(__name__)
PROGRESS_EVERY_S = 5.0


@dataclass(frozen=True)
class RelayConfig:
    bootstrap: str
    topics: TopicNames = field(default_factory=TopicNames)
    batch_size: int = 5_000
    poll_interval_s: float = 0.02
    busy_poll_s: float = 0.002  # the idle poll within busy_window_s of the last event
    busy_window_s: float = 1.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 10.0
    delivery_timeout_s: float = 30.0
    create_topics: bool = True
    replication_factor: int = 1
    history_cache_size: int = 5_000
    prepare_in_worker: bool = True  # when the relay is given the store's settings


@dataclass
class RelayReport:
    events: int = 0
    summaries: int = 0
    heads: int = 0
    batches: int = 0
    failures: int = 0
    lag: Lag | None = None

    def __str__(self) -> str:
        done = (
            f"published {self.events} events, {self.summaries} summaries"
            f" and {self.heads} anchor heads"
        )
        tail = f"; {self.lag}" if self.lag else ""
        return f"{done} in {self.batches} batches ({self.failures} failed attempts){tail}"


class Relay:
    """With `settings` (the store's, as the application was built from), the batches of a
    catch-up are prepared one ahead in a worker process (publishing.relay_worker); without,
    and for the small batches of a relay keeping up, inline."""

    def __init__(
        self, app: JourneyApplication, config: RelayConfig, settings: Settings | None = None
    ) -> None:
        self._app = app
        self.config = config
        self.position = RelayPosition(app, config.topics.events)
        sizes = (config.topics, config.batch_size, config.history_cache_size)
        self._batches: Preparer = InlinePreparer(app, *sizes)
        if settings is not None and config.prepare_in_worker:
            worker = WorkerPreparer(settings, *sizes)
            self._batches = SplitPreparer(self._batches, worker, config.batch_size)
        self._publisher: Publisher | None = None
        self._topics_ready = not config.create_topics
        self._last_log = 0.0
        # the head is read while the producer connects, and waits no longer than it does
        wait_s = min(10.0, config.delivery_timeout_s / 2)
        self._heads = HeadKeeper(app, config.bootstrap, config.topics.anchors, timeout_s=wait_s)
        self._acked: int | None = None  # the last position the broker acknowledged
        self._writer: PositionWriter | None = None  # while `run` runs
        self.report = RelayReport()

    def step(self) -> int:
        """Publishes the next slice of the log; returns its notification count (0: caught up).
        Raises PublishFailed, HeadUnavailable or KafkaError without moving the position,
        AnchorMissing when the log no longer extends the published head."""
        start = (self.position.get() if self._acked is None else self._acked) + 1
        if self._publisher is None:  # the first page is prepared while connecting
            self._batches.ahead(start)
        publisher = self._ready_publisher()
        self._heads.ready()
        prepared = self._batches.prepare(start)
        if prepared is None:
            return 0
        # checked before anything is sent: a log that no longer extends the published head
        # publishes nothing (relay_heads)
        head = self._heads.next_head(prepared.end, start - 1, prepared.count)
        sent = publisher.send(prepared.records)  # the events first, when prepared inline
        rest = prepared.rest()  # summaries computed while the producer sends the events
        summaries = len(prepared.records) - prepared.events + len(rest)
        if head is not None:
            anchor = head_record(head)
            rest.append((self.config.topics.anchors, anchor.key, anchor.value, anchor.headers))
        publisher.confirm(sent + publisher.send(rest))
        self._acked = prepared.end
        if self._writer is not None:
            self._writer.advance(prepared.end, prepared.count)
        else:
            self.position.advance(prepared.end)
        if head is not None:
            self._heads.published(head)
            self.report.heads += 1
        self.report.events += prepared.events
        self.report.summaries += summaries
        self.report.batches += 1
        return prepared.count  # not batch.events: an erased patient's slice has none

    def run(self, *, once: bool = False, stop: threading.Event | None = None) -> RelayReport:
        """Publishes until stopped (or, with `once`, until caught up with the log head)."""
        stop = stop or threading.Event()
        backoff = self.config.backoff_initial_s
        last_event = -self.config.busy_window_s
        self._writer = PositionWriter(self.position, limit=self.config.batch_size)
        try:
            while not stop.is_set():
                try:
                    published = self.step()
                except KafkaConfigurationError:
                    raise  # a bug, not an outage: retrying would never succeed
                except (PublishFailed, HeadUnavailable, KafkaError) as error:
                    self._failed(error, backoff)
                    stop.wait(backoff)
                    backoff = min(backoff * 2, self.config.backoff_max_s)
                    continue
                backoff = self.config.backoff_initial_s
                self._progress(caught_up=published == 0)
                if published == 0 and once:
                    break
                if published:
                    last_event = time.monotonic()
                else:
                    stop.wait(self._idle_poll(last_event))
        finally:
            self.close()
            writer, self._writer = self._writer, None
            writer.close()  # every acknowledged position written (or why not raised)
        self.report.lag = self.position.lag()
        return self.report

    def _idle_poll(self, last_event: float) -> float:
        """The wait before the next look at the log: short while events keep coming (each
        look is one indexed SELECT), the configured interval once the log has been quiet."""
        busy = time.monotonic() - last_event < self.config.busy_window_s
        interval = self.config.poll_interval_s
        return min(self.config.busy_poll_s, interval) if busy else interval

    def close(self) -> None:
        """Closes the producer and the worker that prepares batches (a relay driven by
        `step` closes itself with this; `run` does on its way out)."""
        self._close_publisher()
        self._batches.close()

    def _close_publisher(self) -> None:
        if self._publisher is not None:
            self._publisher.close()
            self._publisher = None

    def _ready_publisher(self) -> Publisher:
        if not self._topics_ready:
            created = ensure_topics(
                self.config.bootstrap, self.config.topics, self.config.replication_factor
            )
            if created:
                log.info("created topics %s", ", ".join(created))
            self._topics_ready = True
        if self._publisher is None:
            # the head published last is read while the producer connects: each waits on
            # the broker for about 0.1 s (docs/benchmarks.md, seventh pass)
            with ThreadPoolExecutor(1, "relay-head") as pool:
                head_read = pool.submit(self._heads.ready)
                self._publisher = self._connected_publisher()
                head_read.result()  # HeadUnavailable (a failed connect raised before)
        return self._publisher

    def _connected_publisher(self) -> Publisher:
        publisher = Publisher(
            self.config.bootstrap, delivery_timeout_s=self.config.delivery_timeout_s
        )
        topics = self.config.topics
        try:
            publisher.connect((topics.events, topics.state, topics.anchors))
        except PublishFailed:
            publisher.close()
            raise
        return publisher

    def _failed(self, error: Exception, backoff: float) -> None:
        self.report.failures += 1
        self._close_publisher()  # a fresh producer re-sends the slice from the recorded position
        self._batches.reset()
        log.warning(
            "publishing failed (%s); retrying in %.1fs; %s", error, backoff, self.position.lag()
        )

    def _progress(self, *, caught_up: bool) -> None:
        now = time.monotonic()
        if now - self._last_log < PROGRESS_EVERY_S and not (caught_up and self._last_log == 0):
            return
        self._last_log = now
        log.info("relay: %s", RelayReport(**{**self.report.__dict__, "lag": self.position.lag()}))
