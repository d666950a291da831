"""The allowlists' SQL: the never-list, members' lists, and the version counter.

Every write transaction starts by bumping ``feed_state.allowlists_version``: the row lock it takes (PostgreSQL) or
the database write lock (SQLite) serialises allowlist writers across processes and nodes, so a check made after it
("is this pattern on the list already?") still holds at commit; and any process whose in-memory copy carries an
older version knows to reload.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from ringfence.allowlists.models import EntryKind, ListKind, MemberEntry, NeverEntry, PatternType
from ringfence.store.tables import feed_state, member_lists, never_list

__all__ = [
    "VERSION_KEY",
    "bump_version",
    "delete_member_entry",
    "delete_never",
    "find_never",
    "get_member_entry",
    "get_never",
    "insert_never",
    "load_member_entries",
    "load_never",
    "read_version",
    "upsert_member_entry",
]

VERSION_KEY = "allowlists_version"


def read_version(conn: Connection) -> int:
    value = conn.execute(select(feed_state.c.value).where(feed_state.c.name == VERSION_KEY)).scalar()
    return int(value or 0)


def bump_version(conn: Connection) -> int:
    """Count one more write (taking the allowlists' write lock until commit); returns the new version."""
    bumped = conn.execute(
        update(feed_state).where(feed_state.c.name == VERSION_KEY).values(value=feed_state.c.value + 1)
    ).rowcount
    if not bumped:  # a store whose row went missing: start counting again
        conn.execute(insert(feed_state).values(name=VERSION_KEY, value=1))
    return read_version(conn)


def _never(row: Any) -> NeverEntry:
    return NeverEntry(
        id=row.id,
        pattern=PatternType(row.pattern),
        value=row.value,
        prefix_len=row.prefix_len,
        kind=EntryKind(row.kind),
        note=row.note,
        member_id=row.member_id,
        created_ms=row.created_ms,
        created_by=row.created_by,
    )


def _member_entry(row: Any) -> MemberEntry:
    return MemberEntry(row.member_id, row.number, ListKind(row.list), row.note, row.created_ms)


def load_never(conn: Connection) -> list[NeverEntry]:
    return [_never(row) for row in conn.execute(select(never_list).order_by(never_list.c.id))]


def get_never(conn: Connection, entry_id: int) -> NeverEntry | None:
    row = conn.execute(select(never_list).where(never_list.c.id == entry_id)).first()
    return None if row is None else _never(row)


def find_never(conn: Connection, pattern: PatternType, value: int, length: int) -> NeverEntry | None:
    row = conn.execute(
        select(never_list).where(
            never_list.c.pattern == pattern.value, never_list.c.value == value, never_list.c.prefix_len == length
        )
    ).first()
    return None if row is None else _never(row)


def insert_never(
    conn: Connection,
    *,
    pattern: PatternType,
    value: int,
    length: int,
    kind: EntryKind,
    note: str | None,
    member_id: int | None,
    created_ms: int,
    created_by: int | None,
) -> NeverEntry:
    entry_id = conn.execute(
        insert(never_list)
        .values(
            pattern=pattern.value,
            value=value,
            prefix_len=length,
            kind=kind.value,
            note=note,
            member_id=member_id,
            created_ms=created_ms,
            created_by=created_by,
        )
        .returning(never_list.c.id)
    ).scalar_one()
    return NeverEntry(entry_id, pattern, value, length, kind, note, member_id, created_ms, created_by)


def delete_never(conn: Connection, entry_id: int) -> None:
    conn.execute(delete(never_list).where(never_list.c.id == entry_id))


def load_member_entries(conn: Connection, member_id: int | None = None) -> list[MemberEntry]:
    """Every member's list entries, or one member's."""
    query = select(member_lists)
    if member_id is not None:
        query = query.where(member_lists.c.member_id == member_id)
    return [_member_entry(row) for row in conn.execute(query)]


def get_member_entry(conn: Connection, member_id: int, number: int) -> MemberEntry | None:
    key = (member_lists.c.member_id == member_id) & (member_lists.c.number == number)
    row = conn.execute(select(member_lists).where(key)).first()
    return None if row is None else _member_entry(row)


def upsert_member_entry(conn: Connection, entry: MemberEntry) -> None:
    """Set one number on a member's list (replacing the list and note it had)."""
    key = (member_lists.c.member_id == entry.member_id) & (member_lists.c.number == entry.number)
    changed = conn.execute(
        update(member_lists).where(key).values(list=entry.list.value, note=entry.note, created_ms=entry.created_ms)
    ).rowcount
    if not changed:
        conn.execute(
            insert(member_lists).values(
                member_id=entry.member_id,
                number=entry.number,
                list=entry.list.value,
                note=entry.note,
                created_ms=entry.created_ms,
            )
        )


def delete_member_entry(conn: Connection, member_id: int, number: int) -> bool:
    key = (member_lists.c.member_id == member_id) & (member_lists.c.number == number)
    return bool(conn.execute(delete(member_lists).where(key)).rowcount)
