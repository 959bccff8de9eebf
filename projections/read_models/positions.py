"""Where each driver stands, written in the same transaction as the rows it changed:
the log follower's last notification id, the Kafka projector's next offsets, and the ids
of the events already applied from Kafka (the second line of defence against redelivery)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from infrastructure.sql import Unit


def lock_position(unit: Unit, name: str) -> int:
    """The last notification id applied by the worker `name` (0 when none), row locked so
    that two followers of the same name take turns instead of both applying a batch."""
    unit.execute(
        "INSERT INTO rm_tracking (name, position) VALUES (?, 0) ON CONFLICT (name) DO NOTHING",
        (name,),
    )
    lock = " FOR UPDATE" if unit.dialect.name == "postgresql" else ""
    row = unit.one(f"SELECT position FROM rm_tracking WHERE name = ?{lock}", (name,))
    assert row is not None
    return int(row[0])


def save_position(unit: Unit, name: str, position: int) -> None:
    unit.execute("UPDATE rm_tracking SET position = ? WHERE name = ?", (position, name))


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
