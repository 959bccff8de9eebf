"""Counts and checksums of read-model tables, comparable across SQLite and PostgreSQL:
values are normalized (instants as UTC ISO text, dates ISO, flags 0/1), rows sorted, and the
SHA-256 taken over them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from infrastructure.sql import Database


@dataclass(frozen=True)
class TableSum:
    table: str
    rows: int
    sha256: str


def _text(value: Any) -> str:
    if value is None:
        return "\x00"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(int(value))
    return str(value)


def table_sum(db: Database, table: str) -> TableSum:
    with db.transaction() as unit:
        rows = unit.all(f"SELECT * FROM {table}")
    lines = sorted("\x1f".join(_text(v) for v in row) for row in rows)
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode() + b"\n")
    return TableSum(table, len(lines), digest.hexdigest())
