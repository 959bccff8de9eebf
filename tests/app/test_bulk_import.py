"""The bulk import stores what the normal path stores: with the same recording clock the very
same bytes, positions, anchors and snapshots; with worker processes (each with its own clock)
the same histories but for the recording times, in the same log order, verified. And its
edges: rejected lines named and nothing stored, retries counted as duplicates, patients
already stored continued, a patient's commands spread over small batches, and the one input
the bulk path refuses."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from itertools import zip_longest
from typing import Any

import pytest

from audit.verify import verify_log
from config.settings import Settings
from devtools.demo.bulk import bulk_load_cohort
from journey.application import JourneyApplication
from journey.commands import parse_command
from services.bulk.decide import ScatteredInput
from services.bulk.importer import bulk_import_lines
from services.importing import import_lines
from tests.analytics.scenarios import mixed_age_week, scenarios, zero_day_stay
from tests.app.bulk_support import (
    NOW,
    RECORDING_ONLY,
    UNTIL,
    Opener,
    Stores,
    anchors,
    cohort_lines,
    histories,
    log_rows,
    rejected,
    snapshot_rows,
)

PATIENTS = 40
BY = "os:importer"  # the principal recording the import (stored on every event)


def _normal(app: JourneyApplication, lines: list[str]) -> None:
    report = import_lines(app, lines, now=NOW, recorded_by=BY)
    assert report.applied and not report.rejected, report.summary()


@pytest.mark.usefixtures("frozen_clock")
def test_bulk_cohort_stores_the_normal_paths_bytes(two_stores: Stores, open_app: Opener) -> None:
    normal_url, bulk_url = two_stores
    normal = open_app(normal_url)
    _normal(normal, cohort_lines(PATIENTS))
    report = bulk_load_cohort(
        PATIENTS,
        until=UNTIL,
        settings=Settings(database_url=bulk_url),
        workers=0,
        batch_patients=7,
        now=NOW,
        recorded_by=BY,
    )
    assert report.applied and report.lines == report.accepted == len(cohort_lines(PATIENTS))
    bulk = open_app(bulk_url)
    assert log_rows(bulk) == log_rows(normal)
    assert b'"recorded_by":"os:importer"' in bytes(log_rows(bulk)[0][-1])
    assert anchors(bulk) == anchors(normal)
    assert snapshot_rows(bulk) == snapshot_rows(normal) != []  # patients past 200 events
    assert verify_log(bulk).ok


def test_bulk_lines_in_worker_processes_store_the_same_histories(
    two_stores: Stores, open_app: Opener
) -> None:
    normal_url, bulk_url = two_stores
    lines = cohort_lines(PATIENTS) + [json.dumps(c) for c in scenarios()]
    _normal(open_app(normal_url), lines)
    report = bulk_import_lines(
        lines, settings=Settings(database_url=bulk_url), workers=2, now=NOW, recorded_by=BY
    )
    assert (report.applied, report.accepted, report.rejected) == (True, len(lines), [])
    _same_histories(open_app(normal_url), open_app(bulk_url))


def test_bulk_cohort_in_worker_processes_stores_the_same_histories(
    two_stores: Stores, open_app: Opener
) -> None:
    normal_url, bulk_url = two_stores
    _normal(open_app(normal_url), cohort_lines(PATIENTS))
    settings = Settings(database_url=bulk_url)
    report = bulk_load_cohort(
        PATIENTS,
        until=UNTIL,
        settings=settings,
        workers=2,
        batch_patients=7,
        now=NOW,
        recorded_by=BY,
    )
    assert report.applied and report.accepted == len(cohort_lines(PATIENTS))
    _same_histories(open_app(normal_url), open_app(bulk_url))


def _same_histories(normal: JourneyApplication, bulk: JourneyApplication) -> None:
    """Same events per patient (recording times aside), same log order, log verified."""
    order = [row[1:4] for row in log_rows(normal)]
    assert [row[1:4] for row in log_rows(bulk)] == order
    assert [row[0] for row in log_rows(bulk)] == list(range(1, len(order) + 1))
    assert histories(bulk, drop=RECORDING_ONLY) == histories(normal, drop=RECORDING_ONLY)
    assert [s[:2] for s in snapshot_rows(bulk)] == [s[:2] for s in snapshot_rows(normal)]
    result = verify_log(bulk)
    assert result.ok and result.events == len(order), result.first()


# -- the edges ----------------------------------------------------------------------------

ADMIT = {"command": "admit", "patient_id": "p-1", "level": "detox", "timezone": "America/Phoenix",
         "occurred_at": "2026-01-01T10:00:00-07:00"}  # fmt: skip
SESSION = {"command": "record_session", "patient_id": "p-1", "session_id": "s-1",
           "format": "group", "approach": "cbt", "duration_minutes": 60,
           "occurred_at": "2026-01-02T10:00:00-07:00"}  # fmt: skip
ADMIT_AND_SESSIONS = [ADMIT] + [SESSION | {"session_id": f"s-{i}"} for i in range(8)]


def _lines(*commands: dict[str, Any] | str) -> list[str]:
    return [c if isinstance(c, str) else json.dumps(c) for c in commands]


MIXED = _lines(
    ADMIT,
    "not json",
    ADMIT,  # an episode is open: conflict
    SESSION | {"patient_id": "nobody"},  # unknown patient
    '{"command": "admit"}',  # no patient id: rejected before routing
    "",
    SESSION,
    SESSION,  # a retry: duplicate
    SESSION | {"duration_minutes": 90},  # same session id, other content: conflict
    SESSION | {"session_id": "s-2", "format": "telepathy"},  # not in the catalog
    SESSION | {"session_id": "s-3"},
)


@pytest.mark.parametrize("workers", [0, 2])
def test_rejected_lines_are_named_and_an_atomic_load_stores_nothing(
    two_stores: Stores, open_app: Opener, workers: int
) -> None:
    normal_url, bulk_url = two_stores
    normal, settings = open_app(normal_url), Settings(database_url=bulk_url)
    expected = import_lines(normal, MIXED, now=NOW)
    report = bulk_import_lines(MIXED, settings=settings, workers=workers, now=NOW)
    assert rejected(report) == rejected(expected) != []
    assert [r.line for r in report.rejected] == [2, 3, 4, 5, 9, 10]
    assert (report.applied, report.accepted, report.duplicates) == (False, 3, 1)
    assert report.summary() == expected.summary()
    bulk = open_app(bulk_url)
    assert (log_rows(bulk), anchors(bulk)) == ([], [])
    expected = import_lines(normal, MIXED, continue_on_error=True, now=NOW)
    report = bulk_import_lines(
        MIXED, settings=settings, continue_on_error=True, workers=workers, now=NOW
    )
    assert rejected(report) == rejected(expected)
    counts = (report.accepted, report.duplicates)
    assert counts == (expected.accepted, expected.duplicates) == (3, 1)
    assert histories(bulk, drop=RECORDING_ONLY) == histories(normal, drop=RECORDING_ONLY)
    assert verify_log(bulk).ok


def test_cohort_rejections_are_numbered_as_lines_of_the_cohort_file(
    two_stores: Stores,
    open_app: Opener,
) -> None:
    """Decided as of a `now` before much of the cohort: its later commands are in the future."""
    normal_url, bulk_url = two_stores
    now = datetime(2026, 9, 1, tzinfo=UTC)
    expected = import_lines(open_app(normal_url), cohort_lines(6), now=now)
    settings = Settings(database_url=bulk_url)
    report = bulk_load_cohort(6, until=UNTIL, settings=settings, workers=2, now=now)
    assert rejected(report) == rejected(expected) != []
    assert report.summary() == expected.summary() and not report.applied
    assert log_rows(open_app(bulk_url)) == []


def test_retries_are_duplicates_even_across_batches_and_the_normal_path_continues(
    two_stores: Stores, open_app: Opener
) -> None:
    normal_url, bulk_url = two_stores
    lines = _lines(ADMIT, SESSION, SESSION, SESSION | {"session_id": "s-2"}, SESSION)
    expected = import_lines(open_app(normal_url), lines, now=NOW)
    report = bulk_import_lines(
        lines, settings=Settings(database_url=bulk_url), workers=0, batch_size=2, now=NOW
    )
    assert (report.accepted, report.duplicates, report.rejected) == (3, 2, [])
    assert (expected.accepted, expected.duplicates) == (3, 2)
    bulk = open_app(bulk_url)
    assert [row[:3] for row in log_rows(bulk)] == [(v, "p-1", v) for v in (1, 2, 3)]
    later = bulk.handle(parse_command(SESSION | {"session_id": "s-3"}), now=NOW)  # normal path
    assert later.version == 4 and log_rows(bulk)[-1][:3] == (4, "p-1", 4)
    assert verify_log(bulk).ok


def test_patients_already_stored_are_continued(two_stores: Stores, open_app: Opener) -> None:
    """Half the lines stored by the normal path, the rest by the bulk path (in worker
    processes): the same histories as the normal path storing both halves."""
    normal_url, bulk_url = two_stores
    lines = cohort_lines(12)
    half = len(lines) // 2  # in the middle of a patient's commands
    normal, bulk = open_app(normal_url), open_app(bulk_url)
    for app, part in ((normal, lines[:half]), (normal, lines[half:]), (bulk, lines[:half])):
        assert import_lines(app, part, now=NOW).applied
    report = bulk_import_lines(
        lines[half:], settings=Settings(database_url=bulk_url), workers=2, now=NOW
    )
    assert report.applied and report.accepted == len(lines) - half
    assert [r[1:3] for r in log_rows(bulk)] == [r[1:3] for r in log_rows(normal)]
    assert histories(bulk, drop=RECORDING_ONLY) == histories(normal, drop=RECORDING_ONLY)
    assert verify_log(bulk).ok
    again = bulk_import_lines(lines[half:], settings=Settings(database_url=bulk_url), now=NOW)
    assert not again.applied and again.rejected[0].error.kind == "conflict"
    assert len(log_rows(bulk)) == len(lines)


@pytest.mark.usefixtures("frozen_clock")
def test_interleaved_patients_over_small_batches(two_stores: Stores, open_app: Opener) -> None:
    """Patients' commands interleaved line by line, three lines a batch: each patient's
    history is the normal path's to the byte (same recording clock)."""
    normal_url, bulk_url = two_stores
    journeys = [mixed_age_week(), zero_day_stay(), ADMIT_AND_SESSIONS]
    lines = _lines(*(c for row in zip_longest(*journeys) for c in row if c is not None))
    normal, bulk = open_app(normal_url), open_app(bulk_url)
    assert import_lines(normal, lines, now=NOW).applied
    report = bulk_import_lines(
        lines, settings=Settings(database_url=bulk_url), workers=0, batch_size=3, now=NOW
    )
    assert report.applied and report.accepted == len(lines)
    assert histories(bulk) == histories(normal)
    assert len(anchors(bulk)) == len(lines) and verify_log(bulk).ok


def test_a_patient_back_after_its_aggregate_was_dropped_stops_the_load(
    tmp_path: Any, open_app: Opener
) -> None:
    url = f"sqlite:///{tmp_path}/bulk.db"
    other = ADMIT | {"patient_id": "p-2"}
    lines = _lines(ADMIT, other, SESSION)
    settings = Settings(database_url=url, aggregate_cache_size=1)  # one patient kept
    with pytest.raises(ScatteredInput, match="patient 'p-1' comes back"):
        bulk_import_lines(lines, settings=settings, workers=0, batch_size=1, now=NOW)
    assert log_rows(open_app(url)) == []
    report = bulk_import_lines(lines, settings=settings, workers=0, batch_size=3, now=NOW)
    assert report.applied and len(log_rows(open_app(url))) == 3
