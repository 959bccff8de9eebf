"""Additive read models: counters (rows of sums keyed by a few columns) that the handlers
change by deltas. The deltas of one transaction are added up in memory and written once,
when it commits, with one upsert per key (`value = value + delta`).

A key that received any delta keeps its row even when its sums come back to 0, so the
rows a store holds never depend on where transactions began and ended."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from projections.read_models.schema import ADDITIVE_TABLES
from projections.read_models.unit import ReadModelUnit


def add(unit: ReadModelUnit, table: str, key: Sequence[Hashable], deltas: Sequence[int]) -> None:
    """Adds `deltas` (one per summed column of `table`) to the row of `key`."""
    rows = unit.buffers.counters.setdefault(table, {})
    sums = rows.get(tuple(key))
    if sums is None:
        rows[tuple(key)] = list(deltas)
    else:
        for i, delta in enumerate(deltas):
            sums[i] += delta
    unit.before_flush("rm_counters", _write)


def _upsert(table: str) -> str:
    keys, sums = ADDITIVE_TABLES[table]
    columns = (*keys, *sums)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET "
        + ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in sums)
    )


def _write(unit: ReadModelUnit) -> None:
    pending, unit.buffers.counters = unit.buffers.counters, {}
    for table in sorted(pending):
        rows = sorted(pending[table].items(), key=lambda item: repr(item[0]))
        unit.executemany(_upsert(table), [(*key, *sums) for key, sums in rows])
