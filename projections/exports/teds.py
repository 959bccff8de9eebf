"""TEDS-D style discharge export (SPEC 9): one CSV row per episode discharged by T.

Columns follow the TEDS-D public-use codebook (docs/exports.md cites it): CASEID (random,
16 hex digits, drawn per export, not derived from the patient), DISYR (year of the local
discharge date), ADMYR (year of the local admission date; TEDS-A's name), SERVICES /
SERVICES_D (TEDS type of service of the first and the last stay: from the ASAM code each
stay was entered with, residential stays by their length), LOS (TEDS length-of-stay code
of the episode) and REASON (TEDS reason for discharge). Codes come from the catalog. No
patient identifier and no full date; rows are sorted by CASEID so their order carries
nothing either."""

from __future__ import annotations

import csv
import secrets
from collections.abc import Iterator
from datetime import datetime
from typing import TextIO

from infrastructure.sql import Unit, day_of
from journey.catalog import Catalog, default_catalog
from projections.calendar import require_aware

COLUMNS = ("CASEID", "DISYR", "ADMYR", "SERVICES", "SERVICES_D", "LOS", "REASON")
DAILY_CODES_UP_TO = 30  # LOS codes 1..30 are the days themselves

# Each discharged episode with its first (seq 1) and last (seq = stays) stay.
_DISCHARGED = (
    "SELECT e.admitted_local_date, e.discharged_local_date, e.days, e.discharge_reason,"
    " f.level, f.asam_code, f.days, l.level, l.asam_code, l.days FROM rm_episodes e"
    " JOIN rm_stays f ON f.patient_id = e.patient_id AND f.episode_number = e.number"
    " AND f.seq = 1"
    " JOIN rm_stays l ON l.patient_id = e.patient_id AND l.episode_number = e.number"
    " AND l.seq = e.stays"
    " WHERE e.discharged_at IS NOT NULL AND e.discharged_at <= ?"
)


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
    d, rows = unit.dialect, []
    for found in unit.all(_DISCHARGED, (as_of,)):
        admitted, discharged, days, reason, *stays = found
        first, first_code, first_days, last, last_code, last_days = stays
        rows.append((
            secrets.token_hex(8),
            day_of(d, discharged).year,
            day_of(d, admitted).year,
            catalog.teds_services(first, first_code, int(first_days)),
            catalog.teds_services(last, last_code, int(last_days)),
            los_code(int(days), catalog),
            catalog.discharge_reasons[reason],
        ))  # fmt: skip
    return sorted(rows, key=lambda row: str(row[0]))


def write_teds(rows: list[tuple[object, ...]], sink: TextIO) -> int:
    writer = csv.writer(sink, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return len(rows)


def read_teds(source: TextIO) -> Iterator[dict[str, str]]:
    """The rows of an export as dicts (for checks and tests)."""
    yield from csv.DictReader(source)
