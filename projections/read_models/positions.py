"""Where each driver stands, written in the same transaction as the rows it changed: the
log poller's last notification id (the library's tracking table, `view.py`), the Kafka
projector's next offsets, and the ids of the events already applied from Kafka (the second
line of defence against redelivery)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from infrastructure.sql import Unit

TRACKED = "CareJourney"  # the followed application's name: the tracking row's key
TRACKING_TABLES = {"sqlite": "tracking", "postgresql": "readmodels_tracking"}


def _table_exists(unit: Unit, table: str) -> bool:
    if unit.dialect.name == "postgresql":
        row = unit.one("SELECT to_regclass(?) IS NOT NULL", (table,))
    else:
        row = unit.one("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
                       (table,))  # fmt: skip
    return bool(row and row[0])


def locked_position(unit: Unit) -> int:
    """The last notification id applied to the read models (0 when none), row locked on
    PostgreSQL so that two pollers take turns instead of both applying a batch (SQLite's
    write transaction already excludes the other)."""
    table = TRACKING_TABLES[unit.dialect.name]
    lock = " FOR UPDATE" if unit.dialect.name == "postgresql" else ""
    row = unit.one(
        f"SELECT notification_id FROM {table} WHERE application_name = ?{lock}", (TRACKED,)
    )
    return int(row[0]) if row and row[0] is not None else 0


def stored_position(unit: Unit) -> int | None:
    """The read models' position, None when they have none (never applied, or rebuilt)."""
    table = TRACKING_TABLES[unit.dialect.name]
    if not _table_exists(unit, table):
        return None
    row = unit.one(f"SELECT notification_id FROM {table} WHERE application_name = ?", (TRACKED,))
    return None if row is None or row[0] is None else int(row[0])


def forget_position(unit: Unit) -> None:
    """The read models start again from position 0 (a rebuild, a format change)."""
    table = TRACKING_TABLES[unit.dialect.name]
    if _table_exists(unit, table):
        unit.execute(f"DELETE FROM {table} WHERE application_name = ?", (TRACKED,))


def stored_offsets(unit: Unit, group_id: str, topic: str) -> dict[int, int]:
    """partition -> next offset to read, for the partitions this group has stored."""
    rows = unit.all(
        "SELECT partition, next_offset FROM rm_kafka_offsets WHERE group_id = ? AND topic = ?",
        (group_id, topic),
    )
    return {int(partition): int(offset) for partition, offset in rows}


def save_offsets(unit: Unit, group_id: str, topic: str, offsets: Mapping[int, int]) -> None:
    for partition, next_offset in offsets.items():
        unit.execute(
            "INSERT INTO rm_kafka_offsets (group_id, topic, partition, next_offset)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (group_id, topic, partition)"
            " DO UPDATE SET next_offset = excluded.next_offset",
            (group_id, topic, partition, next_offset),
        )


def claim_events(unit: Unit, ce_ids: Sequence[str]) -> set[str]:
    """Records the ids as seen, in one statement; returns those not seen before. A
    concurrent claimer of the same id waits for this transaction, then gets nothing."""
    if not ce_ids:
        return set()
    values = ", ".join("(?)" for _ in ce_ids)
    claimed = unit.all(
        f"INSERT INTO rm_seen_events (ce_id) VALUES {values}"
        " ON CONFLICT (ce_id) DO NOTHING RETURNING ce_id",
        ce_ids,
    )
    return {row[0] for row in claimed}
