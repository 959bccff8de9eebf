"""TEDS-style discharge export (SPEC 9): one CSV row per episode discharged by T.

Columns: CASEID (random, 16 hex digits, drawn per export, not derived from the patient),
ADMYR (year of the local admission date), SERVICES / SERVICES_D (TEDS codes of the first
and last stays' levels), LOS (TEDS length-of-stay code) and REASON (TEDS code of the
discharge reason). Codes come from the catalog. No patient identifier and no full date;
rows are sorted by CASEID so their order carries nothing either."""

from __future__ import annotations

import csv
import secrets
from collections.abc import Iterator
from datetime import datetime
from typing import TextIO

from infrastructure.sql import Unit, day_of
from journey.catalog import Catalog, default_catalog
from projections.calendar import require_aware

COLUMNS = ("CASEID", "ADMYR", "SERVICES", "SERVICES_D", "LOS", "REASON")
DAILY_CODES_UP_TO = 30  # LOS codes 1..30 are the days themselves


def los_code(days: int, catalog: Catalog) -> int:
    """TEDS LOS: max(1, days) up to 30 days, then the catalog's bands (upper bound
    inclusive -> code), then the code for longer stays."""
    if days <= DAILY_CODES_UP_TO:
        return max(1, days)
    for upper, code in catalog.teds_los_bands:
        if days <= upper:
            return code
    return catalog.teds_los_over


def teds_rows(
    unit: Unit, as_of: datetime, catalog: Catalog | None = None
) -> list[tuple[object, ...]]:
    """The rows (without header) of the episodes discharged at or before T."""
    as_of = require_aware(as_of, "at")
    catalog = catalog or default_catalog()
    found = unit.all(
        "SELECT admitted_local_date, first_level, last_level, days, discharge_reason"
        " FROM rm_episodes WHERE discharged_at IS NOT NULL AND discharged_at <= ?",
        (as_of,),
    )
    rows = [
        (
            secrets.token_hex(8),
            day_of(unit.dialect, admitted).year,
            catalog.levels[first].teds_services,
            catalog.levels[last].teds_services,
            los_code(int(days), catalog),
            catalog.discharge_reasons[reason],
        )
        for admitted, first, last, days, reason in found
    ]
    return sorted(rows, key=lambda row: str(row[0]))


def write_teds(rows: list[tuple[object, ...]], sink: TextIO) -> int:
    writer = csv.writer(sink, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return len(rows)


def read_teds(source: TextIO) -> Iterator[dict[str, str]]:
    """The rows of an export as dicts (for checks and tests)."""
    yield from csv.DictReader(source)
