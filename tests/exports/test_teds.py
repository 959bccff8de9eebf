"""TEDS-D discharge rows of the export cohort, computed by hand from the TEDS-D codebook:
SERVICES from the ASAM code the first stay was entered with, SERVICES_D from the last
stay's, residential stays by their length, DISYR the discharge year."""

from __future__ import annotations

import io
from collections import Counter
from datetime import UTC, datetime

from infrastructure.sql import connect
from journey.catalog import default_catalog
from projections.exports.teds import COLUMNS, read_teds, teds_rows, write_teds

T = datetime(2026, 1, 1, tzinfo=UTC)

# (DISYR, ADMYR, SERVICES, SERVICES_D, LOS, REASON) per discharged episode
EXPECTED = Counter([
    (2025, 2025, 8, 6, 35, 1),  # p-mixed: 1-WM (ambulatory detox) ... iop; 175 days
    (2025, 2025, 1, 1, 31, 1),  # p-completed: 4-WM (hospital inpatient detox), 37 days
    (2025, 2025, 5, 5, 31, 2),  # p-ama: 3.7 for 37 days: residential long term
    (2025, 2025, 6, 6, 31, 3),  # p-facility-terminated: 2.5 (php)
    (2025, 2025, 8, 8, 31, 4),  # p-transferred: 2-WM
    (2025, 2025, 7, 7, 31, 5),  # p-incarcerated: outpatient by id
    (2025, 2025, 2, 2, 31, 6),  # p-death: 3.2-WM (free-standing residential detox)
    (2025, 2025, 7, 7, 31, 7),  # p-other: 1.5 (4th edition outpatient)
    (2025, 2025, 5, 5, 31, 7),  # p-again, episode 1: inpatient by id (3.7), 40 days
    (2025, 2024, 5, 5, 34, 1),  # p-residential: 3.1 for 105 days, admitted in 2024
    (2025, 2025, 4, 4, 10, 1),  # p-short: 3.3 for 10 days: residential short term
])  # fmt: skip


def test_teds_rows_follow_the_asam_code_entered_and_the_codebook(projected: str) -> None:
    db = connect(projected)
    with db.transaction() as unit:
        rows = teds_rows(unit, T)
    db.close()
    sink = io.StringIO()
    write_teds(rows, sink)
    parsed = list(read_teds(io.StringIO(sink.getvalue())))
    assert sink.getvalue().splitlines()[0] == ",".join(COLUMNS)
    assert COLUMNS == ("CASEID", "DISYR", "ADMYR", "SERVICES", "SERVICES_D", "LOS", "REASON")
    assert Counter(tuple(int(r[c]) for c in COLUMNS[1:]) for r in parsed) == EXPECTED
    assert "p-" not in sink.getvalue()


def test_teds_services_by_code_and_length() -> None:
    catalog = default_catalog()
    cases = [("detox", "4-WM", 3, 1), ("detox", "3.7-WM", 3, 2), ("detox", "3.2-WM", 3, 2),
             ("detox", "1-WM", 3, 8), ("detox", "2-WM", 3, 8), ("detox", None, 3, 2),
             ("detox", "3.7 (WM)", 40, 2), ("inpatient", "3.1", 30, 4),
             ("inpatient", "3.1", 31, 5), ("inpatient", None, 105, 5), ("php", "2.5", 90, 6),
             ("iop", None, 90, 6), ("outpatient", "1", 400, 7), ("outpatient", "1.5", 1, 7)]  # fmt: skip
    for level, code, days, services in cases:
        assert catalog.teds_services(level, code, days) == services, (level, code, days)
