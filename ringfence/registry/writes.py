"""The registry's bulk SQL, at the driver level: inserting reports and folding them into listings.

Bulk imports write tens of thousands of rows a second; SQLAlchemy's per-row parameter handling would cost more than
the database does, so these two statements go to the DB-API driver directly (``exec_driver_sql``) with rows as
tuples, in the placeholder style of the dialect. The fold is a relative upsert (``count = count + n``,
``first = least(first, …)``) with ``RETURNING``, so it is right whatever the index of this process holds, and hands
the new listings back for the index.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from ringfence.registry.models import FLAG_PORTED
from ringfence.store.driver import fetch, placeholder

__all__ = ["REPORT_COLUMNS", "fold_listings", "insert_reports", "numbers_reported_by"]

REPORT_COLUMNS = ("member_id", "number", "category", "occurred_ms", "received_ms", "note", "report_id")
_FOLD_COLUMNS = (
    "number",
    "first_ms",
    "last_ms",
    "report_count",
    "reporter_count",
    "categories",
    "updated_ms",
    "weight",
)
_MAX_PARAMS = 30_000
_IN_CHUNK = 5_000  # under SQLite's 32,766 and PostgreSQL's 65,535 bound parameters per statement


def insert_reports(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
    """Insert report rows (tuples in :data:`REPORT_COLUMNS` order)."""
    if not rows:
        return
    mark = placeholder(conn)
    sql = f"INSERT INTO reports ({', '.join(REPORT_COLUMNS)}) VALUES ({', '.join([mark] * len(REPORT_COLUMNS))})"
    cursor = conn.connection.cursor()
    try:
        cursor.executemany(sql, rows)
    finally:
        cursor.close()


def fold_listings(conn: Connection, rows: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
    """Fold additions into listings, creating missing ones; returns the listings as they now stand.

    Each row: (number, first_ms, last_ms, report_count, new reporters, categories, updated_ms, added weight), one per
    number. A new report clears the ported flag (the report is about the number as it is now). Returns
    :class:`~ringfence.registry.index.Listing` tuples.
    """
    if not rows:
        return []
    mark = placeholder(conn)
    least, greatest = ("LEAST", "GREATEST") if conn.dialect.name == "postgresql" else ("MIN", "MAX")
    row_marks = "(" + ", ".join([mark] * len(_FOLD_COLUMNS)) + ")"
    per_statement = _MAX_PARAMS // len(_FOLD_COLUMNS)
    out: list[tuple[int, ...]] = []
    for start in range(0, len(rows), per_statement):
        part = rows[start : start + per_statement]
        sql = (
            f"INSERT INTO listings ({', '.join(_FOLD_COLUMNS)}) VALUES {', '.join([row_marks] * len(part))} "
            "ON CONFLICT (number) DO UPDATE SET "
            f"first_ms = {least}(listings.first_ms, excluded.first_ms), "
            f"last_ms = {greatest}(listings.last_ms, excluded.last_ms), "
            "report_count = listings.report_count + excluded.report_count, "
            "reporter_count = listings.reporter_count + excluded.reporter_count, "
            "categories = listings.categories | excluded.categories, "
            "updated_ms = excluded.updated_ms, "
            "weight = listings.weight + excluded.weight, "
            f"flags = listings.flags & {~FLAG_PORTED} "
            "RETURNING number, first_ms, last_ms, report_count, reporter_count, categories, weight, flags"
        )
        flat = tuple(value for row in part for value in row)
        out.extend(fetch(conn, sql, flat))
    return out


def numbers_reported_by(conn: Connection, member_id: int, numbers: set[int]) -> tuple[set[int], list[int]]:
    """Which of ``numbers`` the member already has a standing report on (the member is then no new reporter), and
    which of them are listed at all.

    Only numbers that are listed at all can have one, so the listings' primary key is asked first and the reports
    of the member only for those: a bulk file of mostly new numbers costs one cheap probe per number.
    """
    mark = placeholder(conn)
    ordered = sorted(numbers)
    listed: list[int] = []
    for start in range(0, len(ordered), _IN_CHUNK):
        part = ordered[start : start + _IN_CHUNK]
        sql = f"SELECT number FROM listings WHERE number IN ({', '.join([mark] * len(part))})"
        listed.extend(row[0] for row in fetch(conn, sql, tuple(part)))
    found: set[int] = set()
    for start in range(0, len(listed), _IN_CHUNK):
        part = listed[start : start + _IN_CHUNK]
        sql = (
            f"SELECT DISTINCT number FROM reports WHERE member_id = {mark} AND withdrawn_ms IS NULL "
            f"AND number IN ({', '.join([mark] * len(part))})"
        )
        found.update(row[0] for row in fetch(conn, sql, (member_id, *part)))
    return found, listed


def confirmed_reporters(conn: Connection, member_id: int, numbers: list[int]) -> dict[int, int]:
    """Members other than ``member_id`` with a standing report on each of ``numbers`` (which ``member_id`` now
    reports for the first time): member id -> how many of those numbers it had reported, i.e. confirmations."""
    mark = placeholder(conn)
    counts: dict[int, int] = {}
    for start in range(0, len(numbers), _IN_CHUNK):
        part = numbers[start : start + _IN_CHUNK]
        sql = (
            f"SELECT member_id, count(DISTINCT number) FROM reports WHERE withdrawn_ms IS NULL AND member_id <> {mark} "
            f"AND number IN ({', '.join([mark] * len(part))}) GROUP BY member_id"
        )
        for member, count in fetch(conn, sql, (member_id, *part)):
            counts[int(member)] = counts.get(int(member), 0) + int(count)
    return counts
