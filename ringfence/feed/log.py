"""The change log in the store: appending changes inside a registry write, reading them back, retention.

Sequence numbers are assigned by ringfence, not by a database sequence: ``max(seq) + 1`` read inside the writing
transaction while it holds the feed's write lock, so they are strictly increasing *in commit order* and have no
holes (a rolled-back write takes its numbers with it). The lock is the database's own: on PostgreSQL a
transaction-scoped advisory lock (several nodes may write one database), on SQLite the database write lock, which a
transaction already holds when it appends (it has written its reports and listings first). A reader that has seen
seq N and later reads ``seq > N`` therefore never misses a change, which is what the streams promise.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sqlalchemy import Connection, Engine

from ringfence.feed.filters import ChangeFilter
from ringfence.feed.models import COLUMNS, KIND_CODES, Change, ChangeBatch, ChangeKind
from ringfence.store.driver import fetch, placeholder

__all__ = ["ChangeLog"]

_SELECT = f"SELECT {', '.join(COLUMNS)} FROM changes"
#: Any 64-bit constant naming the feed's PostgreSQL advisory lock ("ringfenc" in ASCII).
_ADVISORY_KEY = 0x72696E6766656E63
_PRUNED = "pruned_through"


class ChangeLog:
    """The ``changes`` table: append (in a registry write's transaction), read, prune."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- writing (inside the registry's transaction) ----------------------------------------------------------
    @staticmethod
    def lock(conn: Connection) -> None:
        """Take the feed's write lock for the rest of ``conn``'s transaction (PostgreSQL; SQLite has its own).

        Registry writes take it first thing, so writes of several nodes on one database are serialised as the
        writes of one process are: "does this member already report this number?" is answered and acted on
        atomically, and a listing is never recomputed from a stale read."""
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_ADVISORY_KEY})")

    def append(
        self,
        conn: Connection,
        at_ms: int,
        kinds: Sequence[ChangeKind] | ChangeKind,
        listings: Sequence[tuple[int, ...]],
        listed: Sequence[bool] | bool = True,
    ) -> ChangeBatch:
        """Number and store one change per row of ``listings``; returns them as a batch.

        ``listings`` rows are :class:`~ringfence.registry.index.Listing` tuples (8 columns): the listing after
        the change, or, where ``listed`` is false, the listing before the number left (only its categories are kept).
        Call it last in the transaction: on SQLite the transaction must already hold the write lock.
        """
        size = len(listings)
        if size == 0:
            return ChangeBatch.from_rows([])
        self.lock(conn)  # re-entrant: a no-op when the write already holds it
        head = self.head_at(conn)
        state = np.asarray(listings, dtype=np.int64).reshape(size, 8)
        is_listed = np.full(size, listed) if isinstance(listed, bool) else np.asarray(listed, dtype=bool)
        codes = KIND_CODES[kinds] if isinstance(kinds, ChangeKind) else [KIND_CODES[k] for k in kinds]
        kept = np.where(is_listed[:, None], state, 0)
        batch = ChangeBatch(
            seq=np.arange(head + 1, head + 1 + size, dtype=np.int64),
            at_ms=np.full(size, at_ms, dtype=np.int64),
            kind=np.broadcast_to(np.asarray(codes, dtype=np.int64), (size,)).copy(),
            number=state[:, 0].copy(),
            listed=is_listed,
            first_ms=kept[:, 1],
            last_ms=kept[:, 2],
            report_count=kept[:, 3],
            reporter_count=kept[:, 4],
            categories=state[:, 5].copy(),
            weight=kept[:, 6],
            flags=kept[:, 7],
        )
        mark = placeholder(conn)
        sql = f"INSERT INTO changes ({', '.join(COLUMNS)}) VALUES ({', '.join([mark] * len(COLUMNS))})"
        cursor = conn.connection.cursor()
        try:
            cursor.executemany(sql, batch.rows())
        finally:
            cursor.close()
        return batch

    @staticmethod
    def head_at(conn: Connection) -> int:
        """The newest seq as ``conn``'s transaction sees it (for readers that need it consistent with other reads)."""
        top = fetch(conn, "SELECT max(seq) FROM changes", ())[0][0]
        if top is not None:
            return int(top)
        return ChangeLog._pruned(conn)

    @staticmethod
    def _pruned(conn: Connection) -> int:
        mark = placeholder(conn)
        rows = fetch(conn, f"SELECT value FROM feed_state WHERE name = {mark}", (_PRUNED,))
        return int(rows[0][0]) if rows else 0

    # --- reading -----------------------------------------------------------------------------------------------
    def head(self) -> int:
        """The newest seq (0 before the first change)."""
        with self.engine.connect() as conn:
            return self.head_at(conn)

    def floor(self) -> int:
        """The newest seq that retention has deleted: a reader asking for changes after an older seq missed some."""
        with self.engine.connect() as conn:
            return self._pruned(conn)

    def read_batch(self, since: int, limit: int) -> ChangeBatch:
        """Up to ``limit`` changes with seq > ``since``, oldest first, as columns."""
        with self.engine.connect() as conn:
            mark = placeholder(conn)
            rows = fetch(conn, f"{_SELECT} WHERE seq > {mark} ORDER BY seq LIMIT {mark}", (since, limit))
        return ChangeBatch.from_rows(rows)

    def read(self, since: int, limit: int, where: ChangeFilter | None = None) -> list[Change]:
        """Up to ``limit`` changes with seq > ``since`` that pass ``where``, oldest first.

        Filtering happens in the store for categories and prefix, and in memory for country; the scan stops after
        ``limit`` matches or a bounded number of rows read, so a narrow filter over a long log does not hold a
        request for long: :meth:`read_page` tells the caller where the scan stopped.
        """
        return self.read_page(since, limit, where)[0]

    def read_page(
        self, since: int, limit: int, where: ChangeFilter | None = None, scan: int = 100_000
    ) -> tuple[list[Change], int]:
        """Like :meth:`read`, and the seq the scan reached (the next page starts after it, matched or not)."""
        out: list[Change] = []
        reached = since
        chunk = max(limit, 1_000) if where is not None and not where.is_empty() else limit
        scanned = 0
        while len(out) < limit and scanned < scan:
            batch = self.read_batch(reached, chunk)
            if not len(batch):
                break
            scanned += len(batch)
            if where is not None and not where.is_empty():
                keep = where.mask(batch)
                picked = batch.select(keep)
                room = limit - len(out)
                changes = picked.changes()[:room]
                out.extend(changes)
                if len(changes) == room and room < len(picked):
                    reached = changes[-1].seq
                    break
                reached = batch.last
            else:
                out.extend(batch.changes())
                reached = batch.last
            if len(batch) < chunk:
                break
        return out, reached

    # --- retention ---------------------------------------------------------------------------------------------
    def prune(self, older_than_ms: int, chunk: int = 10_000) -> int:
        """Delete changes made before ``older_than_ms`` (oldest first, in chunks); returns how many went.

        The newest change is always kept so the sequence continues from it; ``floor()`` moves up to the newest
        deleted seq, so readers that ask for an older point learn they missed changes.
        """
        deleted = 0
        while True:
            with self.engine.begin() as conn:
                mark = placeholder(conn)
                self.lock(conn)
                # The oldest ``chunk`` changes, then the run of them older than the cut-off: times grow with seq
                # (up to clock skew between nodes), so this reads a chunk per pass, never the whole log.
                rows = fetch(conn, f"SELECT seq, at_ms FROM changes ORDER BY seq LIMIT {mark}", (chunk + 1,))
                old = 0
                while old < min(len(rows) - 1, chunk) and rows[old][1] < older_than_ms:  # the newest stays
                    old += 1
                if old == 0:
                    return deleted
                top = int(rows[old - 1][0])
                cursor = conn.connection.cursor()
                try:
                    cursor.execute(f"DELETE FROM changes WHERE seq <= {mark}", (top,))
                    deleted += cursor.rowcount
                    cursor.execute(f"DELETE FROM feed_state WHERE name = {mark}", (_PRUNED,))
                    cursor.execute(f"INSERT INTO feed_state (name, value) VALUES ({mark}, {mark})", (_PRUNED, top))
                finally:
                    cursor.close()
            if old < chunk:
                return deleted
