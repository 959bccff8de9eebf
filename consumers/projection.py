"""The read models as eventsourcing's `Projection`, run by the library's `ProjectionRunner`
where the application recorder pushes notifications (PostgreSQL's LISTEN/NOTIFY); SQLite
has no subscription, so there the read-model service's poller follows the log instead.

The runner yields one event at a time; one transaction per event would cost a commit each,
so the projection buffers them and applies a batch (rows and tracking position in one
transaction, `ReadModelService.apply`) when it holds `batch_size` events or when no event
came for `IDLE_SECONDS`. An erased patient's event reaches it as `Unreadable` (the runner's
mapper does not raise): the buffer is applied, then the poller's step, which forgets a held
patient, takes over up to that position."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import StoredEvent, Tracking
from eventsourcing.projection import Projection, ProjectionRunner

from consumers.read_model_service import ReadModelService
from infrastructure.patient_keys import PatientKeyMapper
from journey.application import JourneyApplication
from journey.domain_events import PatientEvent
from journey.envelopes import to_envelope
from journey.errors import PatientErased
from journey.events import EventEnvelope
from projections.read_models.view import VIEW_NAME, view_env
from projections.read_models.view_postgres import PostgresReadModelView

IDLE_SECONDS = 0.05


@dataclass(frozen=True)
class Unreadable:
    """A notification the mapper cannot read: an erased patient's event or its marker."""

    originator_id: str
    originator_version: int


class ReadableMapper(PatientKeyMapper):
    """The runner's mapper: an unreadable notification becomes `Unreadable` instead of
    stopping the runner's thread."""

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[str]:
        try:
            return super().to_domain_event(stored_event)
        except PatientErased:
            return Unreadable(str(stored_event.originator_id), stored_event.originator_version)


class ReadModelProjection(Projection[PostgresReadModelView]):
    """Bound to a service by `runner_for` (the runner constructs it with the view only)."""

    name = VIEW_NAME
    service: ReadModelService

    def __init__(self, view: PostgresReadModelView) -> None:
        super().__init__(view)
        self._lock = threading.Lock()
        self._buffer: list[EventEnvelope] = []
        self._position = 0
        self._last = time.monotonic()
        self._applied = 0  # events up to here were applied by the poller's step already
        self.error: BaseException | None = None

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        if self.error is not None:
            raise self.error
        with self._lock:
            if tracking.notification_id <= self._applied:
                return
            if isinstance(domain_event, Unreadable):
                self._flush()
                while self.service.position() < tracking.notification_id and self.service.step():
                    pass  # the poller forgets the erased patient if it is held
                self._applied = self.service.position()  # maybe past this event: skip those
                return
            assert isinstance(domain_event, PatientEvent)
            self._buffer.append(to_envelope(domain_event))
            self._position, self._last = tracking.notification_id, time.monotonic()
            if len(self._buffer) >= self.service.batch_size:
                self._flush()

    def flush_when_idle(self) -> None:
        """Applies a buffer no event was added to for IDLE_SECONDS (the runner's caller
        calls this between waits)."""
        with self._lock:
            if self._buffer and time.monotonic() - self._last >= IDLE_SECONDS:
                self._flush()

    def flush(self) -> None:
        with self._lock:
            self._flush()

    def _flush(self) -> None:
        if not self._buffer:
            return
        envelopes, self._buffer = self._buffer, []
        try:
            with self.service.db.transaction() as unit:
                self.service.apply(unit, envelopes, self._position)
        except BaseException as error:
            self.error = error
            raise
        self.service.crash.batch_committed()


MAPPER_TOPIC = f"{ReadableMapper.__module__}:{ReadableMapper.__qualname__}"
# (the store's URL, the mapper topic) -> the application class the runner constructs
ApplicationClass = type[JourneyApplication]


def runner_for(
    service: ReadModelService, application_class: ApplicationClass, database_url: str
) -> ProjectionRunner[JourneyApplication, PostgresReadModelView]:
    """The library's runner of the read-model projection over the log of the application
    `application_class` builds (configured with `ReadableMapper`, see MAPPER_TOPIC)."""

    class BoundProjection(ReadModelProjection):
        name = VIEW_NAME

    BoundProjection.service = service
    return ProjectionRunner(
        application_class=application_class,
        projection_class=BoundProjection,
        view_class=PostgresReadModelView,
        env=view_env(database_url),
    )


def run_subscribed(
    service: ReadModelService,
    application_class: ApplicationClass,
    database_url: str,
    stop: threading.Event,
    started: threading.Event | None = None,
) -> int:
    """Follows the log with the runner until `stop` is set; returns the number of
    notifications applied (the backlog first, in batches, then the subscription).
    `started` is set once the runner listens."""
    began = service.position()
    service.catch_up()
    with runner_for(service, application_class, database_url) as runner:
        projection = runner.projection
        assert isinstance(projection, ReadModelProjection)
        if started is not None:
            started.set()
        while not stop.is_set():
            runner.run_forever(timeout=IDLE_SECONDS)
            projection.flush_when_idle()
    projection.flush()
    return service.position() - began
