"""The overdue read model (`projections/overdue_spans.py`): per episode, the spans of
instants during which its plan review (`review`) or its plan (`plan`) is overdue, and per
UTC date and kind how many spans start and end on it, so that the count at T is the sum of
the dates before T's plus the spans starting or ending on T's date by T
(`projections/analytics/care_standards.py`), as `rm_stay_days` does for the census.

A patient's spans depend on all their episodes, plans and reviews (a later admission ends
an episode's window; a review may be filed before the plan it reviews). So an admission,
a discharge, a plan or a review marks the patient, and at the end of the transaction the
marked patients' spans are computed again from those rows: the rows that differ are
replaced and the daily counts changed by the difference. A daily row whose counts are
both 0 is deleted, so the table is exactly the spans' per-date counts, whatever the
order and batching of the events (a parallel rebuild's sum of shares included) and equal
to what `fill` computes from the other read models (the format 5 to 6 migration)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from infrastructure.sql import Unit, day_of, instant_of
from journey.catalog import default_catalog
from projections.overdue_spans import EpisodeRow, PlanRow, ReviewRow, Span, patient_spans
from projections.read_models.patients import PatientRow
from projections.read_models.unit import ReadModelUnit

OVERDUE_DDL = (
    """CREATE TABLE IF NOT EXISTS rm_overdue_spans (
        patient_id TEXT NOT NULL,
        episode_number INTEGER NOT NULL,
        kind TEXT NOT NULL,
        starts_at {ts} NOT NULL,
        ends_at {ts},
        PRIMARY KEY (patient_id, episode_number, kind, starts_at))""",
    """CREATE TABLE IF NOT EXISTS rm_overdue_days (
        day {day} NOT NULL,
        kind TEXT NOT NULL,
        started BIGINT NOT NULL,
        ended BIGINT NOT NULL,
        PRIMARY KEY (day, kind))""",
)
OVERDUE_INDEXES = (
    "CREATE INDEX IF NOT EXISTS rm_overdue_spans_starts ON rm_overdue_spans (starts_at, kind)",
    "CREATE INDEX IF NOT EXISTS rm_overdue_spans_ends ON rm_overdue_spans (ends_at, kind)",
)
OVERDUE_TABLES = ("rm_overdue_spans", "rm_overdue_days")
OVERDUE_ADDITIVE = {"rm_overdue_days": (("day", "kind"), ("started", "ended"))}
CHUNK = 500  # patients per statement
Counts = dict[tuple[date, str], list[int]]  # (UTC date, kind) -> [started, ended]
Grouped = dict[str, list[Any]]  # patient -> rows

_INSERT = (
    "INSERT INTO rm_overdue_spans (patient_id, episode_number, kind, starts_at, ends_at)"
    " VALUES (?, ?, ?, ?, ?)"
)
_DELETE = (
    "DELETE FROM rm_overdue_spans WHERE patient_id = ? AND episode_number = ? AND kind = ?"
    " AND starts_at = ?"
)
_COUNT = (
    "INSERT INTO rm_overdue_days (day, kind, started, ended) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (day, kind) DO UPDATE SET started = rm_overdue_days.started"
    " + excluded.started, ended = rm_overdue_days.ended + excluded.ended"
)
_EMPTY = "DELETE FROM rm_overdue_days WHERE day = ? AND kind = ? AND started = 0 AND ended = 0"


def stay_boundary(unit: ReadModelUnit, patient: PatientRow, *, roster_changed: bool) -> None:
    """An admission or a discharge (`roster_changed`) moves the spans; a change of level
    does not (an episode's `plan_due_days` are its first level's)."""
    if roster_changed:
        touched(unit, patient)


def touched(unit: ReadModelUnit, patient: PatientRow) -> None:
    """The patient's spans are computed again when the transaction's changes are written."""
    unit.buffers.overdue_patients[patient.patient_id] = patient.timezone
    unit.before_flush("rm_overdue_spans", _write)


def _write(unit: ReadModelUnit) -> None:
    pending, unit.buffers.overdue_patients = unit.buffers.overdue_patients, {}
    refresh(unit, pending)


def dues() -> dict[str, int]:
    """Each catalog level's `plan_due_days` (the catalog the read models are built with)."""
    return {level.id: level.plan_due_days for level in default_catalog().levels.values()}


def refresh(unit: Unit, timezones: Mapping[str, str]) -> None:
    """Replaces the spans of these patients (id -> time zone) by the ones their episodes,
    plans and reviews give, and changes the daily counts by the difference."""
    counts: Counts = defaultdict(lambda: [0, 0])
    ids, due = sorted(timezones), dues()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        rows = _read(unit, chunk)
        gone, new = [], []
        for patient_id in chunk:
            episodes, plans, reviews, old = (r.get(patient_id, []) for r in rows)
            spans = set(patient_spans(timezones[patient_id], episodes, plans, reviews, dues=due))
            gone += [(patient_id, s) for s in sorted(set(old) - spans, key=_order)]
            new += [(patient_id, s) for s in sorted(spans - set(old), key=_order)]
        _count(counts, gone, -1)
        _count(counts, new, 1)
        if gone:
            unit.executemany(_DELETE, [(p, s.episode_number, s.kind, s.starts_at) for p, s in gone])
        if new:
            unit.executemany(_INSERT, [(p, *_values(s)) for p, s in new])
    changed = sorted((key, sums) for key, sums in counts.items() if sums != [0, 0])
    if changed:
        unit.executemany(_COUNT, [(*key, *sums) for key, sums in changed])
        unit.executemany(_EMPTY, [key for key, _ in changed])


def fill(unit: Unit) -> int:
    """Computes every patient's spans from the other read models (into empty tables),
    then analyzes them (PostgreSQL); returns how many patients were read."""
    done = 0
    for chunk in _patients(unit):
        refresh(unit, chunk)
        done += len(chunk)
    if unit.dialect.name == "postgresql":  # planner statistics now, not at autovacuum's pass
        for table in OVERDUE_TABLES:
            unit.execute(f"ANALYZE {table}")
    return done


def _patients(unit: Unit) -> Iterator[dict[str, str]]:
    last = ""
    while True:
        found = unit.all(
            "SELECT patient_id, timezone FROM rm_patients WHERE patient_id > ?"
            f" ORDER BY patient_id LIMIT {CHUNK * 10}",
            (last,),
        )
        if not found:
            return
        yield {str(p): str(tz) for p, tz in found}
        last = str(found[-1][0])


def _order(span: Span) -> tuple[int, str, datetime]:
    return span.episode_number, span.kind, span.starts_at


def _values(span: Span) -> tuple[Any, ...]:
    return span.episode_number, span.kind, span.starts_at, span.ends_at


def _count(counts: Counts, spans: list[tuple[str, Span]], sign: int) -> None:
    for _, span in spans:
        counts[span.starts_at.astimezone(UTC).date(), span.kind][0] += sign
        if span.ends_at is not None:
            counts[span.ends_at.astimezone(UTC).date(), span.kind][1] += sign


def _read(unit: Unit, chunk: Sequence[str]) -> tuple[Grouped, Grouped, Grouped, Grouped]:
    """The chunk's episodes, plans, reviews and stored spans, by patient."""
    d, marks = unit.dialect, ", ".join("?" for _ in chunk)

    def at(stored: Any) -> datetime:
        return instant_of(d, stored).astimezone(UTC)

    def day(stored: Any) -> date:
        return day_of(d, stored)

    def maybe(stored: Any) -> datetime | None:
        return None if stored is None else at(stored)

    episodes: Grouped = defaultdict(list)
    for p, n, admitted, local, discharged, level in unit.all(
        "SELECT patient_id, number, admitted_at, admitted_local_date, discharged_at,"
        f" first_level FROM rm_episodes WHERE patient_id IN ({marks})",
        chunk,
    ):
        episodes[p].append(EpisodeRow(n, at(admitted), day(local), maybe(discharged), level))
    plans: Grouped = defaultdict(list)
    for p, plan, version, n, created, local in unit.all(
        "SELECT patient_id, plan_id, version, episode_number, created_at, created_local_date"
        f" FROM rm_plans WHERE patient_id IN ({marks})",
        chunk,
    ):
        plans[p].append(PlanRow(plan, version, n, at(created), day(local)))
    reviews: Grouped = defaultdict(list)
    for p, plan, version, reviewed, local in unit.all(
        "SELECT patient_id, plan_id, version, reviewed_at, reviewed_local_date"
        f" FROM rm_plan_reviews WHERE patient_id IN ({marks})",
        chunk,
    ):
        reviews[p].append(ReviewRow(plan, version, at(reviewed), day(local)))
    spans: Grouped = defaultdict(list)
    for p, n, kind, starts, ends in unit.all(
        "SELECT patient_id, episode_number, kind, starts_at, ends_at FROM rm_overdue_spans"
        f" WHERE patient_id IN ({marks})",
        chunk,
    ):
        spans[p].append(Span(n, kind, at(starts), maybe(ends)))
    return episodes, plans, reviews, spans
