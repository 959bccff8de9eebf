"""The relay's position writer (publishing.relay_position.PositionWriter): the newest
acknowledged position reaches the store, `flush` waits for it, and a failed write is
raised in the relay's thread instead of being lost."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable

import pytest
from eventsourcing.persistence import ConnectionPoolClosedError

from journey.application import JourneyApplication
from publishing.relay_position import PositionWriter, RelayPosition


def test_the_newest_position_is_written_and_flush_waits_for_it(
    make_app: Callable[..., JourneyApplication],
) -> None:
    position = RelayPosition(make_app(), "test.writer.events")
    writer = PositionWriter(position)
    try:
        for notification_id in range(1, 201):
            writer.advance(notification_id)
        writer.flush()
        assert position.get() == 200
        writer.advance(150)  # never backwards
        writer.flush()
        assert position.get() == 200
    finally:
        writer.close()


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_failed_write_is_raised_by_the_next_call(
    make_app: Callable[..., JourneyApplication],
) -> None:
    app = make_app()
    position = RelayPosition(app, "test.writer.events")
    writer = PositionWriter(position)
    writer.advance(1)
    writer.flush()
    app.close()  # the store is gone: the next write fails
    writer.advance(2)
    with pytest.raises(ConnectionPoolClosedError):
        writer.flush()
    writer.close()  # the error was handed over once: nothing left to raise


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_publishing_goes_on_while_a_write_waits_for_the_store_lock(
    make_app: Callable[..., JourneyApplication], store_url: str
) -> None:
    """A writer holding SQLite's write lock (the command path, under load) delays a
    position write; the relay keeps handing over positions, which coalesce, until more than
    `limit` acknowledged notifications are unrecorded: only then does it wait."""
    position = RelayPosition(make_app(), "test.writer.events")
    writer = PositionWriter(position, limit=10)
    blocker = sqlite3.connect(store_url.removeprefix("sqlite:///"), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # the store's write lock, held
    try:
        writer.advance(1, 1)  # the thread takes it and waits for the lock
        within = _advancing(writer, range(2, 11))  # 10 unrecorded: within the limit
        within.join(timeout=10)
        assert not within.is_alive() and within.error is None
        beyond = _advancing(writer, range(11, 13))  # 11 unrecorded: held back
        beyond.join(timeout=1)
        assert beyond.is_alive()
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    beyond.join(timeout=30)
    assert not beyond.is_alive() and beyond.error is None
    writer.flush()
    assert position.get() == 12
    writer.close()


class _Advancing(threading.Thread):
    def __init__(self, writer: PositionWriter, ids: range) -> None:
        super().__init__(daemon=True)
        self.writer, self.ids = writer, ids
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for notification_id in self.ids:
                self.writer.advance(notification_id, 1)
        except BaseException as error:  # asserted by the test
            self.error = error


def _advancing(writer: PositionWriter, ids: range) -> _Advancing:
    thread = _Advancing(writer, ids)
    thread.start()
    return thread
