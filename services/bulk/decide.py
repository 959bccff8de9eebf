"""Deciding commands for the bulk import without storing them, patient by patient.

Each command is decided by the application's own step (`JourneyApplication.decide`, the one
`handle_many` uses) against the state the earlier accepted commands of its patient left, and
the new events become stored rows through the application's mapper: the rows are those the
normal path would store. A `Decider` keeps the aggregates it decided (the `keep` most
recently used) for the patients' next commands; a patient whose aggregate it had to drop
cannot be continued (what this load decided is not readable from the store yet), so its
next command stops the load with `ScatteredInput`. Results cross process boundaries, so
errors travel as `Rejection`s."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from audit.anchors import Row
from infrastructure.keystore import KeyRow
from journey import domain_events as ev
from journey.application import SNAPSHOT_INTERVAL, JourneyApplication
from journey.commands import Command, RecordSession
from journey.errors import InvalidCommand, Issue, JourneyError, PatientErased, UnknownPatient
from journey.patient import Patient
from journey.session_batch import SessionDecisions
from services.bulk import lines as parsing
from services.bulk import session_lines
from services.bulk.rows import RowEncoder


@dataclass(frozen=True)
class Rejection:
    """A domain error in a form that pickles faithfully (its class and issues)."""

    kind: type[JourneyError]
    issues: tuple[Issue, ...]
    patient_id: str | None = None

    @classmethod
    def of(cls, error: JourneyError) -> Rejection:
        return cls(type(error), tuple(error.issues), getattr(error, "patient_id", None))

    def error(self) -> JourneyError:
        if issubclass(self.kind, UnknownPatient) and self.patient_id is not None:
            return self.kind(self.patient_id)
        error = self.kind.__new__(self.kind)
        JourneyError.__init__(error, *self.issues)
        return error


Outcome = str | Rejection  # ACCEPTED, DUPLICATE or why the command was rejected
ACCEPTED, DUPLICATE = "accepted", "duplicate"


class ScatteredInput(InvalidCommand):
    """A patient comes back after its aggregate was dropped: the bulk path cannot go on."""

    def __init__(self, patient_id: str, keep: int) -> None:
        super().__init__(
            Issue(
                "patient_id",
                "bulk_patient_grouped",
                f"patient '{patient_id}' comes back after more than {keep} other patients: the"
                " bulk import needs each patient's commands close together (sort the input by"
                " patient, keeping each patient's order, or use journey import)",
            )
        )


@dataclass
class PatientBatch:
    """One patient's share of a batch: how many of its commands were accepted, what became
    of the others (by number: duplicates, rejections), and the stored rows of its new
    events (and of a snapshot), in version order."""

    patient_id: str
    accepted: int = 0
    others: list[tuple[int, Outcome]] = field(default_factory=list)
    events: list[Row] = field(default_factory=list)
    snapshots: list[Row] = field(default_factory=list)
    keys: list[KeyRow] = field(default_factory=list)  # a new patient's wrapped data key


class Decider:
    """Decides numbered commands (or parse errors) per patient, as `handle_many` would."""

    def __init__(
        self,
        app: JourneyApplication,
        now: datetime,
        *,
        load_existing: bool,
        keep: int,
        recorded_by: str | None = None,
    ) -> None:
        self.app, self.now, self.recorded_by = app, now, recorded_by
        self.load_existing, self.keep = load_existing, keep
        self.rows = RowEncoder(app.mapper)
        self.sessions = SessionDecisions(now, recorded_by, app.earliest_occurred_at)
        # `record_session` lines straight to rows: the same rows and errors (both pinned)
        self.fast = self.rows.sessions and session_lines.SHAPE and parsing.FAST
        self.lines: session_lines.SessionLines | None = None
        self.kept: OrderedDict[str, Patient] = OrderedDict()
        self.seen: set[str] = set()

    def decide(
        self, items: Iterable[tuple[int, str, Command | JourneyError]]
    ) -> list[PatientBatch]:
        """Batches in order of each patient's first command; `items` are (number, patient
        id, command or its parse error)."""
        return self._decided(items, None)

    def decide_lines(
        self, lines: Iterable[tuple[int, str, str]], actor: str | None
    ) -> list[PatientBatch]:
        """`decide` of numbered JSON lines, each with the patient id it was routed by (`actor`
        fills in for a command that names none): a `record_session` line on the common shape
        goes straight to its stored row (`SessionLines`), any other is parsed
        (`parsing.parse_line`) and decided; the same rows and outcomes either way."""
        if self.lines is None or self.lines.actor != actor:
            self.lines = (
                session_lines.SessionLines(self.sessions, self.rows, actor) if self.fast else None
            )
        return self._decided(lines, actor)

    def _decided(
        self, entries: Iterable[tuple[int, str, str | Command | JourneyError]], actor: str | None
    ) -> list[PatientBatch]:
        batches: dict[str, PatientBatch] = {}
        patients: dict[str, Patient | None] = {}
        rows: dict[str, list[Row]] = {}  # rows made straight from lines, and those before
        lines = self.lines
        for number, patient_id, given in entries:
            batch = batches.get(patient_id)
            if batch is None:
                batch = batches[patient_id] = PatientBatch(patient_id)
            entry = given
            if type(given) is str:
                if lines is not None:
                    patient = self._known(patient_id, patients)
                    if patient is not None and (row := lines.row(given, patient)) is not None:
                        done = rows.setdefault(patient_id, [])
                        if patient._pending_events:  # decided before it, by the events
                            done += map(self.rows.encode, patient.collect_events())
                        done.append(row)
                        batch.accepted += 1
                        continue
                entry = parsing.parse_line(given, actor)
            assert not isinstance(entry, str)
            outcome = self._outcome(entry, patients)
            if outcome == ACCEPTED:
                batch.accepted += 1
            else:
                batch.others.append((number, outcome))
        for patient_id, patient in patients.items():
            if patient is not None:
                self._encode(batches[patient_id], patient, rows.get(patient_id, []))
        self._keep(patients)
        return list(batches.values())

    def _known(self, patient_id: str, patients: dict[str, Patient | None]) -> Patient | None:
        """The patient this load decided (None: not yet, or not known)."""
        if patient_id in patients:
            return patients[patient_id]
        patient = self.kept.pop(patient_id, None)
        if patient is not None:
            patients[patient_id] = patient
        return patient

    def _outcome(
        self, item: Command | JourneyError, patients: dict[str, Patient | None]
    ) -> Outcome:
        if isinstance(item, JourneyError):
            return Rejection.of(item)
        pid = item.patient_id
        if pid not in patients:
            try:
                patients[pid] = self._load(pid)
            except PatientErased as error:  # its commands are refused, the load goes on
                return Rejection.of(error)
        patient = patients[pid]
        try:
            if patient is not None and type(item) is RecordSession:  # most commands
                recorded = self.sessions.decide(patient, item) is not None
            else:
                patients[pid], recorded = self.app.decide(patient, item, self.now, self.recorded_by)
        except JourneyError as error:
            return Rejection.of(error)
        return ACCEPTED if recorded else DUPLICATE

    def _load(self, patient_id: str) -> Patient | None:
        patient = self.kept.pop(patient_id, None)
        if patient is not None:
            return patient
        if patient_id in self.seen:
            raise ScatteredInput(patient_id, self.keep)
        return self.app.load_patient(patient_id) if self.load_existing else None

    def _encode(self, batch: PatientBatch, patient: Patient, earlier: list[Row]) -> None:
        """The new events as stored rows, after the rows `earlier` made; a snapshot when
        they crossed a multiple of the interval (the application's `_take_snapshots` rule)."""
        encode = self.rows.encode
        batch.events = earlier + [encode(e) for e in patient.collect_events()]
        if self.app.snapshots is not None and any(
            row[1] % SNAPSHOT_INTERVAL == 0 for row in batch.events
        ):
            batch.snapshots = [encode(ev.PatientSnapshot.take(patient))]
        keyring = getattr(self.app.mapper, "keyring", None)
        if keyring is not None:  # the writer (another process) stores it with the events
            batch.keys = keyring.take_pending([batch.patient_id])

    def _keep(self, patients: dict[str, Patient | None]) -> None:
        for patient_id, patient in patients.items():
            if patient is not None:
                self.seen.add(patient_id)
                self.kept[patient_id] = patient
                self.kept.move_to_end(patient_id)
        while len(self.kept) > self.keep:
            self.kept.popitem(last=False)
