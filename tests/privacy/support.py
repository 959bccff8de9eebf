"""Helpers of the privacy tests: what a store holds, read with a connection of our own."""

from __future__ import annotations

import sqlite3
from typing import Any

import psycopg
from config.storage import persistence_env


def raw_rows(store_url: str, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of a statement written with `?` placeholders, on either engine."""
    env = persistence_env(store_url)
    if "SQLITE_DBNAME" in env:
        with sqlite3.connect(env["SQLITE_DBNAME"]) as db:
            return list(db.execute(statement, params).fetchall())
    with psycopg.connect(store_url.replace("postgresql+psycopg", "postgresql")) as conn:
        return list(conn.execute(statement.replace("?", "%s"), params).fetchall())  # type: ignore[arg-type]


def tables(store_url: str) -> dict[str, int]:
    """Every table of the store and its number of rows: to see that nothing was written."""
    if store_url.startswith("sqlite"):
        names = [
            r[0] for r in raw_rows(store_url, "SELECT name FROM sqlite_master WHERE type='table'")
        ]
    else:
        names = [
            r[0]
            for r in raw_rows(
                store_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
        ]
    return {name: raw_rows(store_url, f"SELECT count(*) FROM {name}")[0][0] for name in names}
