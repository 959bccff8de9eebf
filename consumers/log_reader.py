"""The one reader of the notification log: selects a page of notifications (all of them,
or one share of the patients: `log_shares`), decodes them with the application's mapper
and wraps them as event envelopes. Every follower of the log reads through it: the read
models' poller and rebuilds (`projections/read_models/service.py`, `consumers/replay.py`)
and the relay (`publishing/relay.py`).

A notification that no longer decodes (an erased patient's event, or its erasure marker:
the mapper raises `PatientErased`) is not an event: its patient is listed in `erased`, so
each reader decides what forgetting the patient means for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from eventsourcing.persistence import Notification

from consumers.log_shares import BATCH, Share, share_reader
from journey.application import JourneyApplication
from journey.domain_events import PatientEvent
from journey.envelopes import to_envelope
from journey.errors import PatientErased
from journey.events import EventEnvelope
from journey.mapper import EventMapper

END = 2**62  # "no stop": above any notification id
WHOLE = Share()  # every patient's notifications


@dataclass(frozen=True)
class Slice:
    """One page of the log, decoded."""

    end: int  # the last position the page covers; 0 when nothing was left up to stop
    notifications: list[Notification]  # this share's, in log order
    events: list[EventEnvelope] = field(default_factory=list)  # the readable ones, in order
    erased: list[str] = field(default_factory=list)  # patients not readable (first seen order)

    @property
    def count(self) -> int:
        return len(self.notifications)


class LogReader:
    """Pages of the application's log from a position on, decoded."""

    def __init__(self, app: JourneyApplication, share: Share = WHOLE, batch: int = BATCH) -> None:
        self.app = app
        self._read = share_reader(app, share, batch)

    def head(self) -> int:
        """The id of the last notification in the log (0 when empty)."""
        return self.app.recorder.max_notification_id() or 0

    def page(self, start: int, stop: int = END) -> Slice:
        """The notifications start..stop (at most one batch), decoded."""
        page = self._read(start, stop)
        read = self._envelope_reader()
        events: list[EventEnvelope] = []
        erased: dict[str, None] = {}
        for notification in page.notifications:
            try:
                events.append(read(notification))
            except PatientErased:
                erased[str(notification.originator_id)] = None
        return Slice(page.end, list(page.notifications), events, list(erased))

    def _envelope_reader(self) -> Callable[[Notification], EventEnvelope]:
        """Envelopes straight from the rows' decoded state with the journey's mappers
        (`EventMapper.envelope_reader`, as the application's history reads them: about
        2 µs an event less here), else through the domain events."""
        mapper = self.app.mapper
        if isinstance(mapper, EventMapper):
            return mapper.envelope_reader()

        def read(notification: Notification) -> EventEnvelope:
            event = mapper.to_domain_event(notification)
            assert isinstance(event, PatientEvent)
            return to_envelope(event)

        return read

    def pages(self, start: int, stop: int = END) -> Iterator[Slice]:
        """Every page from `start` to `stop` (or to the head), in order."""
        while start <= stop:
            found = self.page(start, stop)
            if not found.end:
                return
            yield found
            start = found.end + 1
