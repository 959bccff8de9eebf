"""The relay's worker starts on the first page while the relay connects to the broker
(`Preparer.ahead`): the page is prepared before it is asked for, it is the page the relay
would have prepared itself, and a page asked for ahead and never collected neither
confuses the next request nor blocks the worker's shutdown (a reply larger than the pipe's
buffer blocks its sender until it is read)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from config.settings import Settings
from journey.application import JourneyApplication
from publishing.relay import Relay, RelayConfig, RelayReport
from publishing.relay_worker import InlinePreparer, Prepared, WorkerPreparer
from publishing.topics import TopicNames
from tests.kafka.helpers import cohort_lines, load

TOPICS = TopicNames("t.events", "t.state", "t.anchors")
BATCH = 400  # a page's records are far above the pipe's 64 KiB


def stored(
    make_app: Callable[..., JourneyApplication], store_url: str
) -> tuple[JourneyApplication, Settings]:
    app = make_app()
    load(app, cohort_lines(1_000, patients=30, prefix="ahead"))
    return app, Settings(database_url=store_url)


def inline_page(app: JourneyApplication, start: int) -> Prepared | None:
    """The page prepared inline, whole (inline, the summaries are computed on `rest`)."""
    page = InlinePreparer(app, TOPICS, BATCH, 100).prepare(start)
    if page is None:
        return None
    return Prepared(page.start, page.end, page.count, page.events, page.records + page.rest())


@pytest.fixture
def worker(
    make_app: Callable[..., JourneyApplication], store_url: str
) -> Iterator[tuple[JourneyApplication, WorkerPreparer]]:
    """A stored cohort and a worker on its store, closed after the test."""
    app, settings = stored(make_app, store_url)
    preparer = WorkerPreparer(settings, TOPICS, BATCH, 100)
    yield app, preparer
    preparer.close()


def test_the_page_asked_for_ahead_is_prepared_before_it_is_asked_for(
    worker: tuple[JourneyApplication, WorkerPreparer],
) -> None:
    app, preparer = worker
    preparer.ahead(1)
    assert preparer._conn.poll(30), "the worker did not start on the page asked for ahead"
    first = preparer.prepare(1)
    assert first == inline_page(app, 1)
    assert first is not None and first.count == BATCH
    assert preparer.prepare(first.end + 1) == inline_page(app, first.end + 1)


def test_a_page_asked_for_ahead_but_not_collected_is_dropped(
    worker: tuple[JourneyApplication, WorkerPreparer],
) -> None:
    app, preparer = worker
    preparer.ahead(1)
    preparer.ahead(1)  # asked again: still one request, one reply
    assert preparer.prepare(101) == inline_page(app, 101)  # another start than asked ahead
    preparer.ahead(1)
    preparer.reset()  # a failed attempt while the page was being prepared
    assert preparer.prepare(1) == inline_page(app, 1)
    assert preparer.prepare(1) == inline_page(app, 1)  # a retry of the same slice


def test_closing_with_a_page_not_collected_does_not_wait_for_the_worker(
    worker: tuple[JourneyApplication, WorkerPreparer],
) -> None:
    _, preparer = worker
    process = preparer._process
    preparer.ahead(1)
    assert preparer._conn.poll(30)
    began = time.monotonic()
    preparer.close()
    assert time.monotonic() - began < 5, "the worker was left blocked on its unread reply"
    assert not process.is_alive() and process.exitcode == 0


def test_a_relay_that_cannot_connect_retries_and_stops_with_its_worker(
    make_app: Callable[..., JourneyApplication], store_url: str
) -> None:
    """Each attempt asks the worker for the first page ahead, then fails to connect within
    its bounded wait (not kafka-python's 30 s bootstrap default); the failure's reset drops
    that page (the worker's reply is read), the next attempt asks again, and stopping
    returns with the worker closed."""
    _, settings = stored(make_app, store_url)
    with socket.socket() as unused:  # a loopback port nobody listens on
        unused.bind(("127.0.0.1", 0))
        nowhere = f"127.0.0.1:{unused.getsockname()[1]}"
    config = RelayConfig(
        nowhere, TOPICS, batch_size=BATCH, create_topics=False, delivery_timeout_s=1.0,
        backoff_initial_s=0.1, backoff_max_s=0.2,
    )  # fmt: skip
    relay = Relay(make_app(), config, settings)
    preparer = relay._batches._worker  # type: ignore[attr-defined]
    stop = threading.Event()
    reports: list[RelayReport] = []
    runner = threading.Thread(target=lambda: reports.append(relay.run(stop=stop)))
    runner.start()
    deadline = time.monotonic() + 20
    while relay.report.failures < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    began = time.monotonic()
    runner.join(timeout=30)
    assert not runner.is_alive(), "the relay did not stop"
    assert time.monotonic() - began < 15, "stopping waited for the worker"
    assert reports and reports[0].failures >= 3 and reports[0].events == 0
    assert relay.position.get() == 0
    assert preparer._process is None, "the worker was not closed"
