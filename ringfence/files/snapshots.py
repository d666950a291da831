"""Full snapshots and deltas of the registry, written to the drop folder as CSV.gz, JSONL.gz and a manifest.

* A **full snapshot** is every listing as of one change-feed seq (``seq_to``). The seq and the listings are read in
  one read-only transaction that sees a single moment of the store (PostgreSQL: ``REPEATABLE READ``; SQLite: an
  explicit ``BEGIN``, since the Python driver would otherwise run each ``SELECT`` on its own), so a client that
  loads the snapshot and then applies the feed from ``seq_to + 1`` misses nothing and repeats nothing.
* A **delta** is every change after the newest set in the folder (full or delta) up to the feed's head:
  ``seq_from = previous seq_to + 1``. Deltas chain: full, delta, delta, … with no gap and no overlap. When changes
  a delta would need are gone (feed retention), :class:`~ringfence.errors.Gone` says so and a full snapshot is due.

Rows stream from the store in chunks and are rendered over numpy columns (:mod:`ringfence.files.render`) while the
previous chunk is compressed in other threads (:mod:`ringfence.files.sink`): memory stays flat whatever the size.
Writers take the drop folder's lock, so a scheduled run and a ``ringfence files snapshot`` never interleave.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import chain
from typing import TYPE_CHECKING, Any, Final

import numpy as np
from sqlalchemy import Connection, Engine

from ringfence.clock import Clock
from ringfence.errors import Conflict, Gone, NotFound
from ringfence.feed.log import ChangeLog
from ringfence.files.drop import DropFolder
from ringfence.files.manifest import FileEntry, FileSet, Kind, set_stem
from ringfence.files.render import CHANGE_COLUMNS, LISTING_COLUMNS, csv_header, render_changes, render_listings
from ringfence.files.sink import GzipOutput

if TYPE_CHECKING:
    from ringfence.runtime import Runtime

__all__ = ["Snapshots", "consistent_read", "listing_chunks"]

log = logging.getLogger("ringfence.files")

_CHUNK: Final = 50_000
_LISTINGS_SQL: Final = (
    "SELECT number, first_ms, last_ms, report_count, reporter_count, categories FROM listings ORDER BY number"
)

Chunk = tuple[bytes, bytes, int]  # CSV lines, JSONL lines, rows


@contextmanager
def consistent_read(engine: Engine) -> Iterator[tuple[Connection, int]]:
    """A read-only transaction that sees one moment of the store, and the feed's head seq at that moment."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        elif conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN")  # deferred: the snapshot is taken by the first read, just below
        try:
            yield conn, ChangeLog.head_at(conn)
        finally:
            conn.rollback()


def listing_chunks(conn: Connection) -> Iterator[np.ndarray]:
    """The listings, ordered by number, as int64 arrays of shape (n, 6), streamed, never all in memory.

    SQLite's cursor steps through the table as rows are fetched: it is read directly (a third faster than through
    SQLAlchemy's rows). On PostgreSQL a plain cursor would fetch the whole result at once, so SQLAlchemy's
    server-side cursor (``stream_results``) is used.
    """
    parts: Iterable[Sequence[Any]]
    if conn.dialect.name == "sqlite":
        cursor = conn.exec_driver_sql(_LISTINGS_SQL).cursor
        assert cursor is not None
        parts = iter(lambda: cursor.fetchmany(_CHUNK), [])
    else:
        streamed = {"stream_results": True, "max_row_buffer": _CHUNK}  # for this statement only
        parts = conn.exec_driver_sql(_LISTINGS_SQL, execution_options=streamed).partitions(_CHUNK)
    for part in parts:
        yield np.fromiter(chain.from_iterable(part), dtype=np.int64, count=len(part) * 6).reshape(-1, 6)


class Snapshots:
    """Writes full snapshots and deltas into a drop folder, and applies its retention."""

    def __init__(
        self,
        engine: Engine,
        log: ChangeLog,
        drop: DropFolder,
        clock: Clock,
        *,
        keep: int = 7,
        compresslevel: int = 3,
    ) -> None:
        self.engine = engine
        self.log = log
        self.drop = drop
        self.clock = clock
        self.keep = keep
        self.compresslevel = compresslevel

    @classmethod
    def for_runtime(cls, runtime: Runtime) -> Snapshots:
        settings = runtime.settings
        return cls(
            runtime.engine,
            runtime.feed.log,
            DropFolder(settings.drop_dir),
            runtime.clock,
            keep=settings.snapshot_keep,
        )

    # --- full snapshots ----------------------------------------------------------------------------------------
    def write_full(self, *, force: bool = False) -> tuple[FileSet, bool]:
        """Write a full snapshot as of the feed's head; returns it and whether it is new (an existing snapshot at the
        same seq is returned as it is, unless ``force``)."""
        started = time.perf_counter()
        with self.drop.lock(), consistent_read(self.engine) as (conn, head):
            if not force:
                same = next((s for s in self.drop.sets() if s.kind == "full" and s.seq_to == head), None)
                if same is not None:
                    return same, False
            chunks = ((*render_listings(rows), len(rows)) for rows in listing_chunks(conn))
            file_set = self._write_set("full", 1, head, LISTING_COLUMNS, chunks)
            self._publish(file_set, started)
        return file_set, True

    # --- deltas ------------------------------------------------------------------------------------------------
    def write_delta(self) -> FileSet | None:
        """Write the changes after the newest set in the folder up to the feed's head; None when there are none.

        NotFound (``no_snapshot``) when the folder holds no set to follow yet, Gone (``changes_gone``) when feed
        retention has deleted changes the delta would need: write a full snapshot then.
        """
        started = time.perf_counter()
        with self.drop.lock():
            base = self.drop.latest()
            if base is None:
                raise NotFound(
                    "the drop folder holds no snapshot yet: a delta follows a full snapshot, write one first",
                    code="no_snapshot",
                    details={"drop_dir": str(self.drop.root)},
                )
            since = base.seq_to
            head = self.log.head()
            if head == since:
                return None
            if head < since:
                raise Conflict(
                    f"the drop folder's newest set ({base.stem}) reaches seq {since}, but the store's change feed is "
                    f"at seq {head}: the store was replaced or restored. Write a full snapshot, or use another "
                    "drop folder",
                    code="drop_ahead_of_store",
                    details={"seq_to": since, "head": head},
                )
            self._check_available(since)
            file_set = self._write_set("delta", since + 1, head, CHANGE_COLUMNS, self._change_chunks(since, head))
            self._publish(file_set, started)
        return file_set

    def _check_available(self, since: int) -> None:
        floor = self.log.floor()
        if since < floor:
            raise Gone(
                f"changes after seq {since} up to seq {floor} were deleted by the feed's retention: a delta cannot "
                "follow the newest set; write a full snapshot",
                code="changes_gone",
                details={"since": since, "floor": floor},
            )

    def _change_chunks(self, since: int, head: int) -> Iterator[Chunk]:
        expected = since + 1
        while expected <= head:
            batch = self.log.read_batch(expected - 1, _CHUNK)
            if not len(batch) or int(batch.seq[0]) != expected:
                self._check_available(since)
                raise Gone(
                    f"change {expected} is missing from the change log", code="changes_gone", details={"seq": expected}
                )
            if batch.last > head:
                batch = batch.select(batch.seq <= head)
            if batch.last - expected + 1 != len(batch):
                raise Gone(f"the change log has a gap after seq {expected}", code="changes_gone")
            yield (*render_changes(batch), len(batch))
            expected = batch.last + 1

    # --- shared ------------------------------------------------------------------------------------------------
    def _write_set(
        self, kind: Kind, seq_from: int, seq_to: int, columns: tuple[str, ...], chunks: Iterable[Chunk]
    ) -> FileSet:
        created = self.clock.now_ms()
        stem = set_stem(kind, seq_from, seq_to)
        root = self.drop.ensure()
        csv_out = GzipOutput(root, f"{stem}.csv.gz", level=self.compresslevel)
        jsonl_out = GzipOutput(root, f"{stem}.jsonl.gz", level=self.compresslevel)
        rows = 0
        try:
            csv_out.write(csv_header(columns))
            for csv_lines, jsonl_lines, count in chunks:
                csv_out.write(csv_lines)
                jsonl_out.write(jsonl_lines)
                rows += count
            written = (csv_out.finish(), jsonl_out.finish())
        except BaseException:
            csv_out.abort()
            jsonl_out.abort()
            raise
        csv_file, jsonl_file = written
        files = (
            FileEntry(csv_file.name, "csv", csv_file.bytes, csv_file.sha256, rows),
            FileEntry(jsonl_file.name, "jsonl", jsonl_file.bytes, jsonl_file.sha256, rows),
        )
        return FileSet(kind, seq_from, seq_to, created, rows, columns, files)

    def _publish(self, file_set: FileSet, started: float) -> None:
        self.drop.write_manifest(file_set)
        log.info(
            "wrote %s: %d rows, seq %d..%d, in %.2f s",
            file_set.stem,
            file_set.rows,
            file_set.seq_from,
            file_set.seq_to,
            time.perf_counter() - started,
        )
        self.drop.prune(self.keep)
