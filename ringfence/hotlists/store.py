"""The hotlists' SQL: lists, versions, entries, the change log of each version, and the hotlists' version counter.

Every write transaction starts by bumping ``feed_state.hotlists_version``. The row lock it takes (PostgreSQL), or the
database write lock (SQLite), serialises hotlist writers across processes and nodes: the checks an import makes
("was this file imported already?", "what is in force now?") still hold at commit, and version ids are assigned
in commit order, which makes them a gap-free cursor for the version events. Any process holding an older counter
knows to reload.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection, func, insert, select, update

from ringfence.hotlists.models import Entry, Hotlist, HotlistVersion
from ringfence.store.driver import fetch, placeholder
from ringfence.store.tables import feed_state, hotlist_entries, hotlist_versions, hotlists

__all__ = [
    "ENTRY_COLUMNS",
    "VERSION_KEY",
    "EntryState",
    "arrivals",
    "bump_version",
    "change_log",
    "entries_by_id",
    "entry_states",
    "get_hotlist",
    "get_version",
    "insert_changes",
    "insert_entries",
    "insert_hotlist",
    "insert_version",
    "latest_version",
    "list_entries",
    "load_hotlists",
    "newest_version_id",
    "read_version",
    "remove_entries",
    "republish_entries",
    "touch_entries",
    "update_hotlist",
    "version_by_id",
    "version_exists",
    "versions_after",
    "versions_of",
]

VERSION_KEY = "hotlists_version"
_CHUNK = 5_000  # ids per IN (...) list: well inside both engines' parameter limits
#: The columns of a new entry, in the order :func:`insert_entries` takes them.
ENTRY_COLUMNS = (
    "hotlist_id",
    "pattern",
    "prefix",
    "prefix_len",
    "length",
    "source",
    "first_seen_ms",
    "last_seen_ms",
    "first_version",
    "last_version",
    "present",
    "derived",
)


def read_version(conn: Connection) -> int:
    value = conn.execute(select(feed_state.c.value).where(feed_state.c.name == VERSION_KEY)).scalar()
    return int(value or 0)


def bump_version(conn: Connection) -> int:
    """Count one more write (taking the hotlists' write lock until commit); returns the new counter."""
    bumped = conn.execute(
        update(feed_state).where(feed_state.c.name == VERSION_KEY).values(value=feed_state.c.value + 1)
    ).rowcount
    if not bumped:
        conn.execute(insert(feed_state).values(name=VERSION_KEY, value=1))
    return read_version(conn)


# --- lists --------------------------------------------------------------------------------------------------
def _hotlist(row: Any) -> Hotlist:
    return Hotlist(
        id=row.id,
        name=row.name,
        description=row.description,
        retain_missing=bool(row.retain_missing),
        wildcard_last=row.wildcard_last,
        region=row.region,
        sync_url=row.sync_url,
        sync_folder=row.sync_folder,
        sync_every_s=row.sync_every_s,
        created_ms=row.created_ms,
        updated_ms=row.updated_ms,
    )


def load_hotlists(conn: Connection) -> list[Hotlist]:
    return [_hotlist(row) for row in conn.execute(select(hotlists).order_by(hotlists.c.name))]


def get_hotlist(conn: Connection, name: str) -> Hotlist | None:
    row = conn.execute(select(hotlists).where(hotlists.c.name == name)).first()
    return None if row is None else _hotlist(row)


def insert_hotlist(conn: Connection, values: dict[str, Any]) -> int:
    return int(conn.execute(insert(hotlists).values(**values).returning(hotlists.c.id)).scalar_one())


def update_hotlist(conn: Connection, hotlist_id: int, values: dict[str, Any]) -> None:
    conn.execute(update(hotlists).where(hotlists.c.id == hotlist_id).values(**values))


# --- versions -----------------------------------------------------------------------------------------------
_VERSION_COLUMNS = (*hotlist_versions.c, hotlists.c.name.label("hotlist"))


def _version(row: Any) -> HotlistVersion:
    return HotlistVersion(
        id=row.id,
        hotlist_id=row.hotlist_id,
        hotlist=row.hotlist,
        number=row.number,
        imported_ms=row.imported_ms,
        imported_by=row.imported_by,
        source=row.source,
        sha256=row.sha256,
        added=row.added,
        unchanged=row.unchanged,
        removed=row.removed,
        retained=row.retained,
        invalid=row.invalid,
        duplicates=row.duplicates,
        derived=row.derived,
        entries=row.entries,
    )


def _versions() -> Any:
    return select(*_VERSION_COLUMNS).join(hotlists, hotlists.c.id == hotlist_versions.c.hotlist_id)


def versions_of(conn: Connection, hotlist_id: int) -> list[HotlistVersion]:
    query = _versions().where(hotlist_versions.c.hotlist_id == hotlist_id).order_by(hotlist_versions.c.number)
    return [_version(row) for row in conn.execute(query)]


def get_version(conn: Connection, hotlist_id: int, number: int) -> HotlistVersion | None:
    query = _versions().where(hotlist_versions.c.hotlist_id == hotlist_id, hotlist_versions.c.number == number)
    row = conn.execute(query).first()
    return None if row is None else _version(row)


def latest_version(conn: Connection, hotlist_id: int) -> HotlistVersion | None:
    query = (
        _versions()
        .where(hotlist_versions.c.hotlist_id == hotlist_id)
        .order_by(hotlist_versions.c.number.desc())
        .limit(1)
    )
    row = conn.execute(query).first()
    return None if row is None else _version(row)


def version_by_id(conn: Connection, version_id: int) -> HotlistVersion:
    return _version(conn.execute(_versions().where(hotlist_versions.c.id == version_id)).one())


def newest_version_id(conn: Connection) -> int:
    """The id of the newest version of any list (0: none yet)."""
    return int(conn.execute(select(func.max(hotlist_versions.c.id))).scalar() or 0)


def version_exists(conn: Connection, hotlist_id: int, source: str, sha256: str) -> bool:
    """Whether a version of the list was made from this source with this content."""
    query = select(func.count()).where(
        hotlist_versions.c.hotlist_id == hotlist_id,
        hotlist_versions.c.sha256 == sha256,
        hotlist_versions.c.source == source,
    )
    return bool(conn.execute(query).scalar())


def versions_after(conn: Connection, after_id: int, limit: int) -> list[HotlistVersion]:
    """The versions of every list applied after version id ``after_id``, oldest first."""
    query = _versions().where(hotlist_versions.c.id > after_id).order_by(hotlist_versions.c.id).limit(limit)
    return [_version(row) for row in conn.execute(query)]


def insert_version(conn: Connection, values: dict[str, Any]) -> int:
    return int(conn.execute(insert(hotlist_versions).values(**values).returning(hotlist_versions.c.id)).scalar_one())


# --- entries ------------------------------------------------------------------------------------------------
def _entry(row: Any) -> Entry:
    return Entry(
        id=row.id,
        hotlist_id=row.hotlist_id,
        pattern=row.pattern,
        prefix=row.prefix,
        prefix_len=row.prefix_len,
        length=row.length,
        source=row.source,
        first_seen_ms=row.first_seen_ms,
        last_seen_ms=row.last_seen_ms,
        first_version=row.first_version,
        last_version=row.last_version,
        present=bool(row.present),
        derived=bool(row.derived),
    )


def list_entries(conn: Connection, hotlist_id: int) -> list[Entry]:
    """Every entry a list ever had, in force or not."""
    query = select(hotlist_entries).where(hotlist_entries.c.hotlist_id == hotlist_id).order_by(hotlist_entries.c.id)
    return [_entry(row) for row in conn.execute(query)]


class EntryState(NamedTuple):
    """What a merge needs to know of an entry the list has."""

    id: int
    present: bool
    last_version: int
    source: str | None
    derived: bool


def entry_states(conn: Connection, hotlist_id: int) -> dict[str, EntryState]:
    """Every entry a list ever had, by pattern, with only what a merge needs (plain tuples from the driver)."""
    mark = placeholder(conn)
    rows = fetch(
        conn,
        f"SELECT pattern, id, present, last_version, source, derived FROM hotlist_entries WHERE hotlist_id = {mark}",
        (hotlist_id,),
    )
    return {
        pattern: EntryState(entry_id, bool(present), last, source, bool(derived))
        for pattern, entry_id, present, last, source, derived in rows
    }


def entries_by_id(conn: Connection, ids: Iterable[int]) -> list[Entry]:
    wanted = sorted(set(ids))
    found: list[Entry] = []
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        query = select(hotlist_entries).where(hotlist_entries.c.id.in_(chunk))
        found.extend(_entry(row) for row in conn.execute(query))
    found.sort(key=lambda e: e.id)
    return found


def _many(conn: Connection, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """``sql`` once per row, at the driver level (for the few rows whose values differ)."""
    if not rows:
        return
    cursor = conn.connection.cursor()
    try:
        cursor.executemany(sql.replace("?", placeholder(conn)), rows)
    finally:
        cursor.close()


def _insert(conn: Connection, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert many rows: ``COPY`` on PostgreSQL (a round trip per row would cost more than the database does),
    ``executemany`` on SQLite (in-process, so already cheap)."""
    if not rows:
        return
    names = ", ".join(columns)
    cursor: Any = conn.connection.cursor()
    try:
        if conn.dialect.name == "postgresql":
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join([placeholder(conn)] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
    finally:
        cursor.close()


def _update_ids(conn: Connection, assignments: str, values: tuple[Any, ...], ids: Sequence[int]) -> None:
    """``UPDATE hotlist_entries SET <assignments> WHERE id IN (...)``, the same values for every id: one array
    parameter on PostgreSQL, chunks of ids on SQLite."""
    if not ids:
        return
    mark = placeholder(conn)
    head = f"UPDATE hotlist_entries SET {assignments.replace('?', mark)} WHERE "
    cursor = conn.connection.cursor()
    try:
        if conn.dialect.name == "postgresql":
            cursor.execute(head + f"id = ANY({mark})", (*values, list(ids)))
            return
        for start in range(0, len(ids), _CHUNK):
            chunk = list(ids[start : start + _CHUNK])
            cursor.execute(head + "id IN (" + ", ".join([mark] * len(chunk)) + ")", (*values, *chunk))
    finally:
        cursor.close()


def insert_entries(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """New entries, as tuples in :data:`ENTRY_COLUMNS` order."""
    _insert(conn, "hotlist_entries", ENTRY_COLUMNS, rows)


def republish_entries(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Entries published with their source or derivation changed, or back in force:
    ``(last_seen_ms, last_version, derived, source, id)``."""
    sql = (
        "UPDATE hotlist_entries SET last_seen_ms = ?, last_version = ?, present = ?, derived = ?, source = ? "
        "WHERE id = ?"
    )
    _many(conn, sql, [(seen, version, True, derived, source, i) for seen, version, derived, source, i in rows])


def touch_entries(conn: Connection, ids: Sequence[int], seen_ms: int, version: int) -> None:
    """Entries published again with nothing else changed."""
    _update_ids(conn, "last_seen_ms = ?, last_version = ?", (seen_ms, version), ids)


def remove_entries(conn: Connection, ids: Sequence[int]) -> None:
    """Take entries out of force."""
    _update_ids(conn, "present = ?", (False,), ids)


# --- the change log -----------------------------------------------------------------------------------------
def insert_changes(conn: Connection, hotlist_id: int, version: int, changes: Sequence[tuple[int, int]]) -> None:
    """Log what version ``version`` did to each entry: ``(entry id, ChangeKind)``."""
    rows = [(hotlist_id, version, e, k) for e, k in changes]
    _insert(conn, "hotlist_changes", ("hotlist_id", "version", "entry_id", "kind"), rows)


def arrivals(conn: Connection, hotlist_id: int, through: int) -> list[tuple[int, int]]:
    """``(first version, entry id)`` of every entry of the list that arrived by version ``through``."""
    mark = placeholder(conn)
    sql = f"SELECT first_version, id FROM hotlist_entries WHERE hotlist_id = {mark} AND first_version <= {mark}"
    return [(int(v), int(e)) for v, e in fetch(conn, sql, (hotlist_id, through))]


def change_log(conn: Connection, hotlist_id: int, through: int) -> list[tuple[int, int, int]]:
    """Every logged change of the list's versions up to ``through``: ``(version, entry id, kind)``."""
    mark = placeholder(conn)
    sql = f"SELECT version, entry_id, kind FROM hotlist_changes WHERE hotlist_id = {mark} AND version <= {mark}"
    return [(int(v), int(e), int(k)) for v, e, k in fetch(conn, sql, (hotlist_id, through))]
