"""Statements at the DB-API level, for the hot paths where SQLAlchemy's per-row handling costs more than the database:
the placeholder of the dialect, and rows as plain tuples."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

__all__ = ["execute", "fetch", "placeholder"]


def placeholder(conn: Connection) -> str:
    """The dialect's parameter mark: ``?`` (sqlite3) or ``%s`` (psycopg)."""
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def fetch(conn: Connection, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """Run ``sql`` on the DB-API cursor of ``conn``'s transaction: plain tuples, no Row objects per result row."""
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql, params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def execute(conn: Connection, sql: str, params: tuple[Any, ...]) -> int:
    """Run a statement that returns no rows (UPDATE, DELETE) on ``conn``'s transaction; returns the row count."""
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql, params)
        return int(cursor.rowcount)
    finally:
        cursor.close()
