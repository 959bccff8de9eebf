"""Where the relay is in the notification log, kept in the SAME SQL store as the events.

It uses eventsourcing's tracking recorder (table `tracking` on SQLite,
`carejourney_tracking` on PostgreSQL): one row per tracking name, upserted only forwards.
The position is the id of the last notification whose records the broker acknowledged."""

from __future__ import annotations

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
