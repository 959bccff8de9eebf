"""Where the relay is in the notification log, kept in the SAME SQL store as the events.

It uses eventsourcing's tracking recorder (table `tracking` on SQLite,
`carejourney_tracking` on PostgreSQL): one row per tracking name, upserted only forwards.
The position is the id of the last notification whose records the broker acknowledged."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from eventsourcing.persistence import Tracking, TrackingRecorder

from infrastructure.schema_lock import schema_lock
from journey.application import JourneyApplication


@dataclass(frozen=True)
class Lag:
    position: int  # last notification id published and acknowledged
    head: int  # last notification id in the log

    @property
    def behind(self) -> int:
        """Notification ids behind the head: the unpublished events, or an upper bound on
        PostgreSQL, whose id sequence may skip the ids of rolled-back transactions."""
        return max(0, self.head - self.position)

    def __str__(self) -> str:
        return f"position {self.position}, head {self.head}, lag {self.behind}"


def tracking_name(app: JourneyApplication, events_topic: str) -> str:
    """One position per destination topic: relays to different topics never share one."""
    return f"{app.name}->kafka:{events_topic}"


class RelayPosition:
    def __init__(self, app: JourneyApplication, events_topic: str) -> None:
        self._app = app
        self.name = tracking_name(app, events_topic)
        with schema_lock(getattr(app.recorder, "datastore", None)):  # relays starting together
            self._tracker: TrackingRecorder = app.factory.tracking_recorder()

    def get(self) -> int:
        return self._tracker.max_tracking_id(self.name) or 0

    def advance(self, notification_id: int) -> None:
        """Records that every notification up to `notification_id` was acknowledged."""
        if notification_id > self.get():
            self._tracker.insert_tracking(Tracking(self.name, notification_id))

    def head(self) -> int:
        return self._app.recorder.max_notification_id() or 0

    def lag(self) -> Lag:
        return Lag(position=self.get(), head=self.head())


class PositionWriter:
    """Records acknowledged positions from a thread of its own, so that publishing goes on
    while a position is written (on SQLite the write waits for the writers' lock, and
    SQLite's busy handler sleeps in growing steps: under a steady stream of commands one
    write can wait most of a second). Positions handed over while one is being written
    coalesce: only the newest is written next. The relay waits only when more than
    `limit` acknowledged notifications are not yet recorded, so a crash re-publishes at
    most `limit` + one batch of notifications (the relay passes its batch size: two full
    batches): at least once still. A failed write is raised by the next `advance`,
    `flush` or `close`."""

    def __init__(self, position: RelayPosition, limit: int = 5_000) -> None:
        self._position = position
        self._limit = limit
        self._pending: int | None = None
        self._pending_count = 0  # notifications acknowledged since the write being made
        self._writing_count = 0  # notifications the write being made records
        self._writing = False
        self._closed = False
        self._error: BaseException | None = None
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="relay-position", daemon=True)
        self._thread.start()

    def advance(self, notification_id: int, count: int = 1) -> None:
        """Hands over the position after `count` more acknowledged notifications; waits
        only while more than `limit` acknowledged ones are not yet recorded."""
        with self._changed:
            self._changed.wait_for(lambda: self._error or self._unrecorded() <= self._limit)
            self._raise()
            self._pending = max(notification_id, self._pending or 0)
            self._pending_count += count
            self._changed.notify_all()

    def _unrecorded(self) -> int:
        return self._pending_count + (self._writing_count if self._writing else 0)

    def flush(self) -> None:
        """Waits until every position handed over is written (or raises why it was not)."""
        with self._changed:
            self._changed.wait_for(lambda: self._error or not (self._pending or self._writing))
            self._raise()

    def close(self) -> None:
        try:
            self.flush()
        finally:
            with self._changed:
                self._closed = True
                self._changed.notify_all()
            self._thread.join()

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._closed or self._pending is not None)
                if self._pending is None:
                    return  # closed, nothing left
                target, self._pending, self._writing = self._pending, None, True
                self._writing_count, self._pending_count = self._pending_count, 0
            try:
                self._position.advance(target)
            except BaseException as error:  # handed to the relay's thread, which raises it
                with self._changed:
                    self._error = error
            finally:
                with self._changed:
                    self._writing = False
                    self._changed.notify_all()
