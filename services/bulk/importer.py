"""Bulk import: the events and anchors `journey import` stores, written many times faster.

Commands stream in chunks (`batch_size` lines, or `batch_patients` generated patients);
each chunk is decided per patient by worker processes (`bulk_workers`, `bulk_decide`: the
application's decide step and mapper, so the same rules, rejections, payloads and chain
hashes) and written by this process alone, in one COPY per chunk on PostgreSQL
(`infrastructure.bulk_store`): positions and anchors in order, each patient's new events together
and in version order, patients in the order of their first command in the chunk (the order
`handle_many` stores a batch in).

Atomic by default, like `journey import`: the whole load is one transaction, every rejected
line is named, and one rejection means nothing is stored (deciding goes on to name them
all). With `continue_on_error`, each chunk commits on its own and rejected lines are
skipped. A retried `record_session` counts as a duplicate. Patients already in the store are
loaded and continued. A patient's commands may be spread over the input, but not beyond the
`keep` patients each worker holds (`ScatteredInput` stops the load then)."""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice, zip_longest

import orjson

from audit.anchors import Row
from config.settings import Settings, get_settings
from infrastructure.bulk_store import bulk_session
from infrastructure.keystore import KeyRow
from journey.errors import InvalidCommand, JourneyError
from journey.mapper import cyclic_gc_paused
from services.bulk.decide import DUPLICATE, PatientBatch, Rejection
from services.bulk.workers import Deciders, Generate, GeneratedTask, LinesTask, Task
from services.importing import ImportReport, RejectedLine, parse_entry
from services.runtime import Runtime

BATCH_LINES = 5_000  # small enough that the first and last chunks (one core idle) are short
BATCH_PATIENTS = 200
WORKERS = 2


@dataclass(frozen=True)
class _Chunk:
    """A chunk's log order (patient ids; None: generated, patient j of the chunk decided by
    worker j % workers) and the lines rejected before they could be routed."""

    order: list[str] | None
    invalid: list[RejectedLine]


def bulk_import_lines(
    lines: Iterable[str | InvalidCommand],
    *,
    settings: Settings | None = None,
    continue_on_error: bool = False,
    actor: str | None = None,
    workers: int = WORKERS,
    batch_size: int = BATCH_LINES,
    now: datetime | None = None,
    recorded_by: str | None = None,
) -> ImportReport:
    """Imports JSON Lines of commands (as `import_lines`) with the bulk path."""
    parts = max(workers, 1)
    numbered = enumerate(lines, start=1)
    chunks = (
        _route(block, actor, parts)
        for block in iter(lambda: list(islice(numbered, batch_size)), [])
    )
    return _load(
        chunks,
        settings,
        atomic=not continue_on_error,
        workers=workers,
        now=now,
        keep=None,
        recorded_by=recorded_by,
    )


def bulk_load_generated(
    patients: int,
    generate: Generate,
    *,
    settings: Settings | None = None,
    actor: str | None = None,
    workers: int = WORKERS,
    batch_patients: int = BATCH_PATIENTS,
    now: datetime | None = None,
    recorded_by: str | None = None,
) -> ImportReport:
    """Loads patients 1..`patients`, whose commands `generate` makes from their indices in
    the worker processes, atomically; rejected commands are numbered as lines of the whole
    sequence of commands, patient after patient."""
    parts = max(workers, 1)

    def chunks() -> Iterator[tuple[_Chunk, list[Task]]]:
        for start in range(1, patients + 1, batch_patients):
            indices = range(start, min(start + batch_patients, patients + 1))
            tasks: list[Task] = [
                GeneratedTask(indices[k::parts], generate, actor) for k in range(parts)
            ]
            yield _Chunk(None, []), tasks

    return _load(
        chunks(), settings, atomic=True, workers=workers, now=now, keep=0, recorded_by=recorded_by
    )


def _route(
    block: list[tuple[int, str | InvalidCommand]], actor: str | None, parts: int
) -> tuple[_Chunk, list[Task]]:
    """Numbered lines to one task per worker, by patient; unreadable lines rejected here."""
    shares: list[list[tuple[int, str, str]]] = [[] for _ in range(parts)]
    order: dict[str, int] = {}  # patient id: its worker, in order of first line
    invalid: list[RejectedLine] = []
    for number, text in block:
        if isinstance(text, InvalidCommand):
            invalid.append(RejectedLine(number, text))
            continue
        patient_id = _patient_id(text)
        if patient_id is None:
            if not text or text.isspace():
                continue
            entry = parse_entry(text, actor)
            if isinstance(entry, JourneyError):
                invalid.append(RejectedLine(number, entry))
                continue
            patient_id = entry.patient_id
        part = order.get(patient_id)
        if part is None:
            part = order[patient_id] = zlib.crc32(patient_id.encode()) % parts
        shares[part].append((number, patient_id, text))
    tasks: list[Task] = [LinesTask(share, actor) for share in shares]
    return _Chunk(list(order), invalid), tasks


# `"patient_id": "ID"` (JSON's whitespace around the colon, an identifier's characters)
_PATIENT_ID = re.compile(r'"patient_id"[ \t\n\r]*:[ \t\n\r]*"([A-Za-z0-9._-]{1,64})"').search


def _patient_id(text: str) -> str | None:
    """The line's top-level `patient_id`, when it is text. Read from the text when the line
    has no escape and names `patient_id` once: then that name is the top-level key, or the
    line is not a command at all (it names no patient at the top, or is not JSON) and is
    rejected where it is routed, by the same parse, with the same error."""
    if "\\" not in text and text.count('"patient_id"') == 1:
        found = _PATIENT_ID(text)
        if found is not None:
            return found[1]
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    patient_id = document.get("patient_id") if isinstance(document, dict) else None
    return patient_id if isinstance(patient_id, str) else None


def _load(
    chunks: Iterable[tuple[_Chunk, list[Task]]],
    settings: Settings | None,
    *,
    atomic: bool,
    workers: int,
    now: datetime | None,
    keep: int | None,
    recorded_by: str | None,
) -> ImportReport:
    """Decides and writes every chunk; `keep` aggregates per worker (None: as many as the
    settings' aggregate cache; 0 when no patient comes back, as when generated)."""
    report = ImportReport()
    now = now or datetime.now(UTC)
    settings = settings or get_settings()
    deciders: Deciders[_Chunk] = Deciders(
        settings,
        now,
        workers=workers,
        keep=settings.aggregate_cache_size if keep is None else keep,
        recorded_by=recorded_by,
    )
    with deciders, Runtime(settings) as runtime:  # the workers start before the store opens
        app = runtime.application
        with cyclic_gc_paused(), bulk_session(app, atomic=atomic) as session:
            deciders.begin(app, load_existing=session.head is not None)
            for chunk, results in deciders.run(chunks):
                events, snapshots, keys = _merge(chunk, results, report)
                if atomic and report.rejected:
                    session.abort()
                else:
                    session.append(events, snapshots, keys)
    report.rejected.sort(key=lambda r: r.line)
    report.applied = not (atomic and report.rejected)
    return report


def _merge(
    chunk: _Chunk, results: list[list[PatientBatch]], report: ImportReport
) -> tuple[list[Row], list[Row], list[KeyRow]]:
    """The chunk's rows in log order (and the new patients' wrapped keys); counts every
    outcome in the report."""
    if chunk.order is None:  # generated: patient j of the chunk was decided by worker j % workers
        batches = [b for group in zip_longest(*results) for b in group if b is not None]
    else:
        by_patient = {b.patient_id: b for part in results for b in part}
        batches = [by_patient[patient_id] for patient_id in chunk.order]
    events: list[Row] = []
    snapshots: list[Row] = []
    keys: list[KeyRow] = []
    report.rejected.extend(chunk.invalid)
    for batch in batches:  # generated commands are numbered from each patient's first
        base = report.lines if chunk.order is None else 0
        report.accepted += batch.accepted
        for number, outcome in batch.others:
            _count(report, base + number, outcome)
        events.extend(batch.events)
        snapshots.extend(batch.snapshots)
        keys.extend(batch.keys)
    return events, snapshots, keys


def _count(report: ImportReport, line: int, outcome: str | Rejection) -> None:
    if isinstance(outcome, Rejection):
        report.rejected.append(RejectedLine(line, outcome.error()))
    elif outcome == DUPLICATE:
        report.duplicates += 1
    else:
        report.accepted += 1
