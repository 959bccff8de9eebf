"""The read-model tables (prefix `rm_`, their DDL in `ddl.py`): created idempotently,
dropped by a rebuild, upgraded in place where a format change allows it."""

from __future__ import annotations

import re

from infrastructure.sql import Unit
from projections.read_models.care import CARE_WEEKS_ADDITIVE
from projections.read_models.ddl import INDEXES, TABLES
from projections.read_models.overdue import (
    OVERDUE_ADDITIVE,
    OVERDUE_TABLES,
)
from projections.read_models.overdue import (
    fill as fill_overdue,
)
from projections.read_models.positions import forget_position

# Tables a rebuild empties, in dependency-free order; the analyst tables come first.
READ_MODEL_TABLES = (
    "rm_patients", "rm_episodes", "rm_stays", "rm_transitions", "rm_sessions", "rm_chains",
    "rm_weeks", "rm_census_deltas", "rm_stay_lengths", "rm_episode_lengths",
    "rm_attendance_days", "rm_week_counts", "rm_week_spans", "rm_therapist_assignments",
    "rm_plans", "rm_plan_reviews", "rm_referrals", "rm_care_weeks", "rm_care_week_counts",
    "rm_care_spans", "rm_stay_days", "rm_transition_days", *OVERDUE_TABLES,
)  # fmt: skip
CARE_TABLES = ("rm_therapist_assignments", "rm_plans", "rm_plan_reviews", "rm_referrals")
POSITION_TABLES = ("rm_kafka_offsets", "rm_seen_events")
LEGACY_TABLES = ("rm_tracking",)  # format 2's log position (now the library's tracking table)

# Additive read models: counters keyed by their key columns, whose other (integer) columns
# are sums of per-patient contributions. Two partial rebuilds over disjoint patients merge
# by adding them: (key columns, summed columns).
ADDITIVE_TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "rm_census_deltas": (("timezone", "local_date", "level"), ("delta",)),
    "rm_stay_lengths": (("month", "level", "days"), ("stays",)),
    "rm_episode_lengths": (("month", "reason", "days"), ("episodes",)),
    "rm_attendance_days": (("day", "level"), ("attended", "no_show")),
    "rm_week_counts": (("timezone", "week_start", "level", "status"), ("weeks",)),
    "rm_week_spans": (("timezone", "week_start", "level", "age_group"), ("delta",)),
    **CARE_WEEKS_ADDITIVE,
    **OVERDUE_ADDITIVE,
    "rm_stay_days": (("day", "level"), ("started", "ended")),
    "rm_transition_days": (
        ("local_date", "direction", "from_level", "to_level"),
        ("transitions", "across"),
    ),
}


_NAMED = re.compile(r"CREATE (?:TABLE|INDEX) IF NOT EXISTS (\w+)")
SCHEMA_LOCK = 0x726D5F73  # the advisory lock of the creators of the rm_ schema ("rm_s")
# The stored read models' format (table rm_format), one number for the whole schema:
# 1 held patient, clinician and session ids in clear and free-text reasons; 2 holds keyed
# pseudonyms and no free text (infrastructure.pseudonym_keys); 3 keeps the log position in
# eventsourcing's tracking table (rm_tracking is gone); 4 adds the care tables (therapist
# assignments, plans, reviews, referrals), rm_transitions.across_episodes (chained
# readmissions), sessions at a discharge instant at the discharged stay's level, and weeks
# judged with the catalog's inclusive/exclusive maxima; 5 adds the care-standards weekly
# read model (rm_care_weeks, rm_care_week_counts, rm_care_spans), stays started and ended
# per UTC date (rm_stay_days), transitions per local date (rm_transition_days), indexes;
# 6 adds the overdue spans of plans and reviews (rm_overdue_spans, rm_overdue_days), which
# format 5's own tables give, and the stays' and episodes' end indexes cover `days` (`los`
# reads them index-only): a format 5 store is upgraded in place (UPGRADES), not rebuilt.
# A schema change that a column added with NULLs cannot express (ADDED_COLUMNS) bumps
# it: read models of another format are dropped with their positions and rebuilt from
# the log, with a message (`create_tables`).
FORMAT_VERSION = 6
FORMAT_TABLE = "CREATE TABLE IF NOT EXISTS rm_format (version INTEGER NOT NULL)"
# Formats one step behind whose tables the current format only adds to, with what fills
# the added tables from the others (in the same transaction); it returns patients read.
REPLACED_INDEXES = ("rm_episodes_discharged", "rm_stays_ended")  # format 5's, now with days


def _upgrade_5(unit: Unit) -> int:
    for index in REPLACED_INDEXES:
        unit.execute(f"DROP INDEX IF EXISTS {index}")
    return fill_overdue(unit)


UPGRADES = {5: _upgrade_5}

SCHEMA_NAMES = [
    m[1] for statement in (FORMAT_TABLE, *TABLES, *INDEXES) if (m := _NAMED.search(statement))
]

# Columns added after their table shipped: (table, column, type). `create_tables` adds
# them to a table created before; its existing rows get NULL (readers say what NULL means).
ADDED_COLUMNS = (("rm_stays", "asam_code", "TEXT"),)  # NULL: the level's default code


def _missing(unit: Unit) -> bool:
    """Whether a table, index or added column of the rm_ schema is missing (PostgreSQL)."""
    row = unit.one("SELECT COUNT(to_regclass(n)) FROM unnest(?::text[]) AS n", (SCHEMA_NAMES,))
    if row is None or int(row[0]) < len(SCHEMA_NAMES):
        return True
    found = unit.all(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name = ANY(?)",
        (sorted({table for table, _, _ in ADDED_COLUMNS}),),
    )
    return not {(t, c) for t, c, _ in ADDED_COLUMNS} <= {(t, c) for t, c in found}


def _add_columns(unit: Unit) -> None:
    for table, column, kind in ADDED_COLUMNS:
        if unit.dialect.name == "postgresql":
            unit.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {kind}")
        elif column not in {row[1] for row in unit.all(f"PRAGMA table_info({table})")}:
            unit.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")


def _stored_format(unit: Unit) -> int | None:
    row = unit.one("SELECT max(version) FROM rm_format")
    return None if row is None or row[0] is None else int(row[0])


def _format_current(unit: Unit) -> bool:
    return _stored_format(unit) == FORMAT_VERSION


def _had_read_models(unit: Unit) -> bool:
    if unit.dialect.name == "postgresql":
        row = unit.one("SELECT to_regclass('rm_patients') IS NOT NULL")
    else:
        row = unit.one("SELECT count(*) FROM sqlite_master WHERE name = 'rm_patients'")
    return bool(row and row[0])


def create_tables(unit: Unit) -> str | None:
    """Creates the missing rm_ tables, added columns (ADDED_COLUMNS) and indexes
    (idempotent); read models of an older format are dropped first (with their positions:
    the drivers then rebuild from 0), except a format in UPGRADES: its tables are kept and
    the added ones filled from them, in this transaction.

    On PostgreSQL no DDL runs when they all exist in the current format: `CREATE INDEX IF
    NOT EXISTS` takes a SHARE lock on its table even when the index exists (`ALTER TABLE`
    an exclusive one), and one
    transaction taking those on table after table deadlocks with projectors writing them
    (a projector restarting beside the others of its group; `journey replay` while they
    run). Concurrent creators wait for each other on an advisory lock (concurrent `CREATE
    TABLE IF NOT EXISTS` of the same table can fail).

    Returns a message for the operator when read models of another format were dropped
    (they are then rebuilt from position 0 by whoever applies the log) or upgraded, else
    None."""
    d = unit.dialect
    if d.name == "postgresql":
        if not _missing(unit) and _format_current(unit):
            return None
        unit.execute("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK,))
    unit.execute(FORMAT_TABLE)
    note, found = None, _stored_format(unit)
    upgrade = UPGRADES.get(found) if found is not None and _had_read_models(unit) else None
    if not _format_current(unit):
        if upgrade is None:
            note = _drop_other_format(unit, found)
        unit.execute("DELETE FROM rm_format")
        unit.execute("INSERT INTO rm_format (version) VALUES (?)", (FORMAT_VERSION,))
    for statement in TABLES:
        unit.execute(statement.format(ts=d.timestamp, day=d.day, flag=d.flag))
    _add_columns(unit)
    for statement in INDEXES:
        unit.execute(statement)
    if upgrade is not None:
        patients = upgrade(unit)
        note = (
            f"read models: format {found} found, upgraded in place to format {FORMAT_VERSION}"
            f" ({patients} patients' overdue spans computed from their episodes and plans)"
        )
    return note


def _drop_other_format(unit: Unit, found: int | None) -> str | None:
    existed = _had_read_models(unit)
    for table in (*READ_MODEL_TABLES, *POSITION_TABLES, *LEGACY_TABLES):
        unit.execute(f"DROP TABLE IF EXISTS {table}")
    forget_position(unit)
    if not existed:
        return None
    return (
        f"read models: format {found or 1} found, this version writes format"
        f" {FORMAT_VERSION}: dropped, they are rebuilt from the event log"
    )


def drop_tables(unit: Unit) -> None:
    """Drops every rm_ table: the read models and all their positions."""
    for table in (*READ_MODEL_TABLES, *POSITION_TABLES):  # rm_format stays: rebuilt = current
        unit.execute(f"DROP TABLE IF EXISTS {table}")
    forget_position(unit)


def reset_tables(unit: Unit) -> None:
    """Drops and recreates every rm_ table: the start of a rebuild from position 0."""
    drop_tables(unit)
    create_tables(unit)
