"""SQL fragments that differ between SQLite and PostgreSQL: date arithmetic and the
per-time-zone "local date of T" table every as-of query joins.

Local dates are `date` in PostgreSQL and ISO text in SQLite (see docs/read-models.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from infrastructure.sql import Dialect, Unit
from projections.calendar import LocalCalendar, require_aware


def add_days(dialect: Dialect, expr: str, days: int) -> str:
    """`expr + days` for a local-date expression."""
    if dialect.name == "postgresql":
        return f"({expr} + {int(days)})"
    return f"date({expr}, '{int(days):+d} days')"


def days_between(dialect: Dialect, later: str, earlier: str) -> str:
    """`later - earlier` in whole days, for two local-date expressions."""
    if dialect.name == "postgresql":
        return f"({later} - {earlier})"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def monday_of(dialect: Dialect, expr: str) -> str:
    """The Monday starting the ISO week of a local-date expression."""
    if dialect.name == "postgresql":
        return f"({expr} - (EXTRACT(ISODOW FROM {expr})::int - 1))"
    return f"date({expr}, '-6 days', 'weekday 1')"


def least(dialect: Dialect, a: str, b: str) -> str:
    return f"LEAST({a}, {b})" if dialect.name == "postgresql" else f"MIN({a}, {b})"


def greatest(dialect: Dialect, a: str, b: str) -> str:
    return f"GREATEST({a}, {b})" if dialect.name == "postgresql" else f"MAX({a}, {b})"


def text_agg(dialect: Dialect, expr: str) -> str:
    """The group's values of `expr` joined by commas in one text value: a grouped answer of
    many small numbers comes back as a few rows (decoding each value client-side costs
    more than the query)."""
    if dialect.name == "postgresql":
        return f"string_agg(({expr})::text, ',')"
    return f"group_concat({expr}, ',')"


def pairs(text: str | None) -> list[tuple[int, int]]:
    """`text_agg` of `a || ':' || b` integer pairs, parsed."""
    found = []
    for item in (text or "").split(","):
        if item:
            a, b = item.split(":")
            found.append((int(a), int(b)))
    return found


def values_table(name: str, columns: list[tuple[str, str]], rows: list[tuple[Any, ...]]) -> str:
    """`name(col, ...) AS (VALUES (CAST(? AS type), ...), ...)` for a CTE; rows non-empty.
    Every value is cast, so NULLs and parameters get the column's type in both engines."""
    row = "(" + ", ".join(f"CAST(? AS {kind})" for _, kind in columns) + ")"
    names = ", ".join(column for column, _ in columns)
    return f"{name}({names}) AS (VALUES {', '.join(row for _ in rows)})"


def flat(rows: list[tuple[Any, ...]]) -> list[Any]:
    return [value for row in rows for value in row]


@dataclass(frozen=True)
class Zones:
    """The local date of T in each time zone of the cohort (SPEC 6: the patient's zone).

    A local date D has a level as of T only when its ending midnight is at or before T,
    i.e. when D < the local date of T in the patient's zone."""

    as_of: datetime
    local_dates: dict[str, date]

    def cte(self, dialect: Dialect) -> tuple[str, list[Any]]:
        """The `tz(timezone, t_date)` CTE and its parameters (None when no patient)."""
        rows = sorted(self.local_dates.items())
        columns = [("timezone", "TEXT"), ("t_date", dialect.day)]
        return values_table("tz", columns, rows), flat(rows)

    def horizon(self) -> date:
        """Dates before this one have a level as of T in every zone of the cohort (with no
        patient: the UTC date of T minus one, safe in every zone)."""
        fallback = self.as_of.astimezone(UTC).date() - timedelta(days=1)
        return min(self.local_dates.values(), default=fallback)


# The distinct zones of `rm_census_deltas` by one primary-key probe per zone (a loose
# index scan: `SELECT DISTINCT` reads every row, 7 ms at 100,000 patients).
_ZONES = (
    "WITH RECURSIVE z(timezone) AS (SELECT MIN(timezone) FROM rm_census_deltas UNION ALL"
    " SELECT (SELECT MIN(c.timezone) FROM rm_census_deltas c WHERE c.timezone > z.timezone)"
    " FROM z WHERE z.timezone IS NOT NULL) SELECT timezone FROM z WHERE timezone IS NOT NULL"
)


def open_at(unit: Unit, t: datetime, days: str, rows: str, key: str) -> list[tuple[Any, int]]:
    """Per `key`, how many intervals of `rows` (`table:start_column:end_column`) are open
    at T: those started by T less those ended by T, from the daily counts of `days`
    (`day`, `started`, `ended`) before T's UTC date, plus the rows starting or ending on
    T's date up to T. `rm_stay_days` and `rm_overdue_days` are kept for this."""
    table, start, end = rows.split(":")
    day = datetime.combine(t.astimezone(UTC).date(), datetime.min.time(), tzinfo=UTC)
    return [
        (value, int(count))
        for value, count in unit.all(
            f"SELECT {key}, SUM(n) FROM (SELECT {key}, started - ended AS n FROM {days}"
            f" WHERE day < ? UNION ALL SELECT {key}, 1 FROM {table} WHERE {start} >= ?"
            f" AND {start} <= ? UNION ALL SELECT {key}, -1 FROM {table} WHERE {end} >= ?"
            f" AND {end} <= ?) AS changes GROUP BY {key}",
            (day.date(), day, t, day, t),
        )
    ]


def zones_at(unit: Unit, as_of: datetime) -> Zones:
    """The cohort's time zones with the local date of T in each (every admitted patient
    has a stay, so its zone is in the small `rm_census_deltas`)."""
    as_of = require_aware(as_of, "at")
    zones = [row[0] for row in unit.all(_ZONES)]
    return Zones(as_of, {tz: LocalCalendar(tz).local_date(as_of) for tz in zones})
