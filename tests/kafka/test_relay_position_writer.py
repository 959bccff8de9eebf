"""The relay's position writer (publishing.relay_position.PositionWriter): the newest
acknowledged position reaches the store, `flush` waits for it, and a failed write is
raised in the relay's thread instead of being lost."""

from __future__ import annotations

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
