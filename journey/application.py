"""The write side: applies commands to patient aggregates and stores one event per accepted
command in the event store (which is also the outbox followed by readers)."""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    LRUCache,
    ProcessingEvent,
)
from eventsourcing.persistence import EventStore, IntegrityError, JSONTranscoder, StoredEvent

from journey import domain_events as ev
from journey.commands import REGISTRY, Command
from journey.envelopes import event_id, to_envelope
from journey.errors import ConcurrentUpdate, Issue, JourneyError, UnknownPatient
from journey.events import EventEnvelope
from journey.mapper import DateAsISO, EventMapper
from journey.patient import STATE_VERSION, Patient
from journey.snapshots import CheckedSnapshotStore
from journey.timekeeping import EARLIEST_OCCURRED_AT, not_before_earliest

MAX_ATTEMPTS = 10  # optimistic-concurrency retries before a ConcurrentUpdate
RETRY_BASE_SECONDS = 0.01  # randomized exponential back-off between retries
SNAPSHOT_INTERVAL = 200  # events between snapshots of a patient
HISTORY_CACHE_PATIENTS = 256  # patients whose event envelopes stay in memory for reads


@dataclass(frozen=True)
class Outcome:
    """What became of one accepted command."""

    patient_id: str
    command: str
    status: str  # "accepted" or "duplicate"
    version: int
    event_type: str | None = None
    event: ev.PatientEvent | None = field(default=None, repr=False, compare=False)

    @property
    def event_id(self) -> str | None:
        """The stored event's id (CloudEvents ce_id); None for a duplicate."""
        return None if self.event is None else event_id(self.event)


class JourneyApplication(Application[str]):
    """Commands in, events stored; histories out as envelopes."""

    name = "CareJourney"
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {Patient: SNAPSHOT_INTERVAL}

    def __init__(
        self,
        env: dict[str, str],
        *,
        default_timezone: str = "UTC",
        earliest_occurred_at: datetime = EARLIEST_OCCURRED_AT,
    ) -> None:
        super().__init__(
            env={"ORIGINATOR_ID_TYPE": "text", "MAPPER_TOPIC": "journey.mapper:EventMapper", **env}
        )
        self.default_timezone = default_timezone
        self.earliest_occurred_at = earliest_occurred_at
        self._write_lock = threading.RLock()
        self._histories: LRUCache[str, list[EventEnvelope]] = LRUCache(HISTORY_CACHE_PATIENTS)
        # what a reader keeps of a patient's rows between reads (projections.stored_journey)
        self.folds: LRUCache[str, Any] = LRUCache(HISTORY_CACHE_PATIENTS)
        self._forgets = 0  # patients forgotten so far: a read begun before one keeps nothing
        self._forget_lock = threading.Lock()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def construct_snapshot_store(self) -> EventStore[str]:
        """Snapshots are used only when their digest matches (journey.snapshots)."""
        recorder = self.factory.aggregate_recorder(purpose="snapshots")
        return CheckedSnapshotStore(mapper=self.mapper, recorder=recorder)

    # -- commands ---------------------------------------------------------------------
    def handle(
        self, command: Command, *, now: datetime | None = None, recorded_by: str | None = None
    ) -> Outcome:
        """Applies one command; retries on concurrent writes, then raises ConcurrentUpdate.
        `recorded_by`: the authenticated principal recording it (stored on the event)."""
        result = self.handle_many([command], atomic=True, now=now, recorded_by=recorded_by)[0]
        if isinstance(result, JourneyError):
            raise result
        return result

    def handle_many(
        self,
        commands: Sequence[Command],
        *,
        atomic: bool,
        now: datetime | None = None,
        dry_run: bool = False,
        recorded_by: str | None = None,
        recorded_by_each: Sequence[str | None] | None = None,
    ) -> list[Outcome | JourneyError]:
        """Applies commands in order in one transaction. With `atomic`, one rejection stores
        nothing; otherwise rejected commands are skipped and the rest are stored. A
        `dry_run` decides every command and stores nothing. `recorded_by_each`: the
        principal of each command, in place of one `recorded_by` for all."""
        principals = recorded_by_each or [recorded_by] * len(commands)
        with self._write_lock:
            for attempt in range(MAX_ATTEMPTS):
                touched: dict[str, Patient] = {}
                results = [
                    self._apply(c, touched, now or datetime.now(UTC), by)
                    for c, by in zip(commands, principals, strict=True)
                ]
                failed = any(isinstance(r, JourneyError) for r in results)
                if not touched or dry_run or (atomic and failed):
                    self._evict(touched)
                    return results
                try:
                    self.save(*touched.values())
                except IntegrityError:
                    self._evict(touched)
                    time.sleep(random.uniform(0, RETRY_BASE_SECONDS * 2**attempt))
                    continue
                except BaseException:
                    self._evict(touched)
                    raise
                return results
        ids = sorted({c.patient_id for c in commands})
        raise ConcurrentUpdate(
            Issue("patient_id", "no_concurrent_update", f"kept changing under us: {ids}")
        )

    def _apply(
        self, command: Command, touched: dict[str, Patient], now: datetime, by: str | None
    ) -> Outcome | JourneyError:
        pid = command.patient_id
        try:  # loading may fail too: an erased patient is gone (PatientErased)
            patient: Patient | None = touched.get(pid) or self.load_patient(pid)
            patient, event = self.decide_event(patient, command, now, by)
        except JourneyError as error:
            return error
        touched[pid] = patient
        if event is None:
            return Outcome(pid, command.command, "duplicate", patient.version)
        return Outcome(
            pid, command.command, "accepted", patient.version, type(event).__name__, event
        )

    def decide(
        self, patient: Patient | None, cmd: Command, now: datetime, by: str | None = None
    ) -> tuple[Patient, bool]:
        """Decides one command on the patient (None: not yet known), recorded by the principal
        `by`, without storing it: the patient with the new event pending, and False for a
        duplicate (no event). Raises the domain error of a rejected command, leaving the
        patient untouched."""
        patient, event = self.decide_event(patient, cmd, now, by)
        return patient, event is not None

    def decide_event(
        self, patient: Patient | None, cmd: Command, now: datetime, by: str | None = None
    ) -> tuple[Patient, ev.PatientEvent | None]:
        """As `decide`, with the event recorded (None for a duplicate), by the command's
        registry entry (journey.commands.REGISTRY)."""
        spec = REGISTRY[cmd.command]
        for name in spec.instants:
            not_before_earliest(getattr(cmd, name), self.earliest_occurred_at)
        if patient is not None:
            return patient, spec.decide(patient, cmd, now=now, by=by)
        if spec.opens is None:
            raise UnknownPatient(cmd.patient_id)
        opened = spec.opens(cmd, now=now, default_timezone=self.default_timezone, by=by)
        (event,) = opened.pending_events
        assert isinstance(event, ev.PatientEvent)
        return opened, event

    def load_patient(self, patient_id: str) -> Patient | None:
        """The stored patient (from the cache, fast-forwarded), or None when unknown."""
        try:
            patient: Any = self.repository.get(patient_id, deepcopy_from_cache=False)
        except AggregateNotFoundError:
            return None
        assert isinstance(patient, Patient)
        if getattr(patient, "state_version", 1) < STATE_VERSION:
            return self._rebuilt(patient_id)
        return patient

    def _rebuilt(self, patient_id: str) -> Patient:
        """The patient from its events alone: its latest snapshot was taken by an earlier
        version whose state lacks what this one keeps (`journey.patient.STATE_VERSION`).
        The cache then holds the rebuilt aggregate; the next snapshot has the new state."""
        aggregate: Any = None
        for event in self.events.get(patient_id):
            assert isinstance(event, ev.PatientEvent)
            aggregate = event.mutate(aggregate)
        assert isinstance(aggregate, Patient)
        if self.repository.cache is not None:
            self.repository.cache.put(patient_id, aggregate)
        return aggregate

    def _evict(self, touched: Iterable[str]) -> None:
        """Drops aggregates that may hold unsaved events from the cache."""
        cache = self.repository.cache
        for pid in touched:
            if cache is not None:
                with contextlib.suppress(KeyError):
                    cache.get(pid, evict=True)

    def _take_snapshots(self, processing_event: ProcessingEvent[str]) -> None:
        """Snapshots the saved in-memory aggregate when its stream crossed a multiple of the
        interval, instead of reconstructing it from the store (eventsourcing's default)."""
        if self.snapshots is None:
            return
        crossed = {
            e.originator_id
            for e in processing_event.events
            if e.originator_version % SNAPSHOT_INTERVAL == 0
        }
        snapshots = [
            ev.PatientSnapshot.take(aggregate)
            for pid in crossed
            if isinstance(aggregate := processing_event.aggregates.get(pid), Patient)
        ]
        if snapshots:
            self.snapshots.put(snapshots)

    def forget(self, patient_id: str) -> None:
        """Drops what this process keeps in memory of the patient (its aggregate and its
        history): after an erasure nothing of it may be served from a cache."""
        self._evict([patient_id])
        with self._forget_lock:
            self._forgets += 1
            for cache in (self._histories, self.folds):
                with contextlib.suppress(KeyError):
                    cache.get(patient_id, evict=True)

    def forgets(self) -> int:
        """A mark taken when a read of patient data begins, for `keep`."""
        return self._forgets

    def keep(self, cache: LRUCache[str, Any], patient_id: str, found: Any, since: int) -> None:
        """Keeps what a read found in `cache` (`_histories`, `folds`), unless a patient was
        forgotten since the read began at mark `since`: an erasure while it read, whose
        plaintext the read may hold, must not be put back after `forget` dropped it."""
        with self._forget_lock:
            if self._forgets == since:
                cache.put(patient_id, found)

    # -- reads ------------------------------------------------------------------------
    def _envelopes(self, rows: Sequence[StoredEvent]) -> list[EventEnvelope]:
        """Envelopes of stored rows: straight from their decoded state with the journey's
        mappers (journey.mapper.EventMapper.to_envelopes), else through the domain events."""
        if isinstance(self.mapper, EventMapper):
            return self.mapper.to_envelopes(rows)
        return [to_envelope(self.mapper.to_domain_event(r)) for r in rows]  # type: ignore[arg-type]

    def history(self, patient_id: str) -> list[EventEnvelope]:
        """Every stored event of the patient, in order; UnknownPatient when there is none.

        Envelopes of recently read patients are kept (stored events never change) and only
        events after the last one kept are read from the store."""
        since = self.forgets()
        try:
            known = self._histories.get(patient_id, evict=True)
        except KeyError:
            known = []
        after = known[-1].version if known else None
        fresh = self.recorder.select_events(patient_id, gt=after)
        events = known + self._envelopes(fresh)
        if not events:
            raise UnknownPatient(patient_id)
        self.keep(self._histories, patient_id, events, since)
        return list(events)
