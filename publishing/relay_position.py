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
    """Records acknowledged positions from a thread of its own, so that the next batch is
    published while the last one's position is written (on SQLite the write waits for the
    writers' lock: tens of milliseconds under load). One position is written at a time and
    at most one more waits; a failed write is raised by the next `advance`, `flush` or
    `close`. A crash re-publishes from the position recorded last, at most two batches:
    at least once still."""

    def __init__(self, position: RelayPosition) -> None:
        self._position = position
        self._pending: int | None = None
        self._writing = False
        self._closed = False
        self._error: BaseException | None = None
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="relay-position", daemon=True)
        self._thread.start()

    def advance(self, notification_id: int) -> None:
        """Hands over a position; waits while an earlier one is still waiting for the
        thread (so at most two batches are acknowledged and not yet recorded)."""
        with self._changed:
            self._changed.wait_for(lambda: self._error or self._pending is None)
            self._raise()
            self._pending = notification_id
            self._changed.notify_all()

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
            try:
                self._position.advance(target)
            except BaseException as error:  # handed to the relay's thread, which raises it
                with self._changed:
                    self._error = error
            finally:
                with self._changed:
                    self._writing = False
                    self._changed.notify_all()
