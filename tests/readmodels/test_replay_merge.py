"""Merging the shares of a parallel replay, on made-up tables: ordinary rows are appended,
counters of an additive table are added by key; and the COPY text the PostgreSQL load
makes from a scratch file, plain or escaped by psycopg."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

import pytest

from consumers.replay_load import copy_batches
from consumers.replay_merge import merge_shares

TABLES = (
    "CREATE TABLE rm_test_people (patient_id TEXT PRIMARY KEY, visits INTEGER, note TEXT)",
    """CREATE TABLE rm_test_counts (day TEXT NOT NULL, level TEXT NOT NULL,
        attended BIGINT, no_show BIGINT NOT NULL, PRIMARY KEY (level, day))""",
)
# the same table, its columns in another order: the merge names them
REORDERED = """CREATE TABLE rm_test_counts (no_show BIGINT NOT NULL, attended BIGINT,
    level TEXT NOT NULL, day TEXT NOT NULL, PRIMARY KEY (level, day))"""
ADDITIVE = {"rm_test_counts": (("day", "level"), ("attended", "no_show"))}
NAMES = ("rm_test_people", "rm_test_counts")
Rows = Sequence[tuple[object, ...]]


def scratch(path: Path, people: Rows, counts: Rows, tables: Sequence[str] = TABLES) -> Path:
    with sqlite3.connect(path) as db:
        for statement in tables:
            db.execute(statement)
        db.executemany("INSERT INTO rm_test_people VALUES (?, ?, ?)", people)
        db.executemany(
            "INSERT INTO rm_test_counts (no_show, attended, level, day) VALUES (?, ?, ?, ?)",
            [(n, a, level, day) for day, level, a, n in counts],
        )
    return path


def table(path: Path, name: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as db:
        return sorted(db.execute(f"SELECT * FROM {name}"))


def test_shares_append_rows_and_add_counters(tmp_path: Path) -> None:
    d1, d2 = "2026-01-05", "2026-01-06"
    a = scratch(tmp_path / "a.db", [("p1", 2, None)], [(d1, "iop", 3, 1), (d1, "php", 1, 0)])
    b = scratch(
        tmp_path / "b.db",
        [("p2", 5, "x"), ("p3", 0, None)],
        [(d1, "iop", 4, 0), (d2, "iop", 2, 2), (d1, "php", None, 1)],
        (TABLES[0], REORDERED),
    )
    c = scratch(tmp_path / "c.db", [], [(d1, "iop", 0, 5)])
    target = scratch(tmp_path / "all.db", [], [])
    merge_shares([a, b, c], target, NAMES, ADDITIVE)
    assert table(target, "rm_test_people") == [("p1", 2, None), ("p2", 5, "x"), ("p3", 0, None)]
    assert table(target, "rm_test_counts") == [
        (d1, "iop", 7, 6),
        (d1, "php", 1, 1),  # NULL + 1 = 1, as SUM over the shares gives
        (d2, "iop", 2, 2),
    ]


def test_an_ordinary_table_refuses_a_key_in_two_shares(tmp_path: Path) -> None:
    a = scratch(tmp_path / "a.db", [("p1", 1, None)], [])
    b = scratch(tmp_path / "b.db", [("p1", 1, None)], [])
    with pytest.raises(sqlite3.IntegrityError):
        merge_shares([a, b], scratch(tmp_path / "all.db", [], []), NAMES, ADDITIVE)


def test_an_additive_table_must_declare_every_column(tmp_path: Path) -> None:
    a = scratch(tmp_path / "a.db", [], [("2026-01-05", "iop", 1, 1)])
    partial = {"rm_test_counts": (("day", "level"), ("attended",))}
    with pytest.raises(ValueError, match="no_show"):
        merge_shares([a], scratch(tmp_path / "all.db", [], []), NAMES, partial)


def test_copy_text_is_plain_unless_a_value_needs_escaping(tmp_path: Path) -> None:
    clean = [("p1", 2, None), ("p2", 0, "a b")]
    path = scratch(tmp_path / "a.db", clean, [])
    names = ("patient_id", "visits", "note")
    with sqlite3.connect(path) as db:
        assert list(copy_batches(db, "rm_test_people", names)) == ["p1\t2\t\\N\np2\t0\ta b\n"]
        db.execute("INSERT INTO rm_test_people VALUES ('p3', NULL, '\\N'), ('p4', 1, 'a\tb')")
        (rows,) = list(copy_batches(db, "rm_test_people", names))
    assert rows == [("p1", "2", None), ("p2", "0", "a b"), ("p3", None, "\\N"), ("p4", "1", "a\tb")]
