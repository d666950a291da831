"""The entries in force of every list, held in memory as columns: what a check needs to answer without SQL.

Hotlists run to millions of entries; a Python object per entry would cost several hundred bytes each, columns cost
about 80 (sources, of which a list has few, are stored once each and referred to by index). An :class:`Entry` is
built only for the entries a check actually matches. The table is immutable, like the matcher built from it, so it
is swapped whole when a new version comes.
"""

from __future__ import annotations

from itertools import chain
from typing import Final

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection

from ringfence.hotlists.matcher import RangeMatcher
from ringfence.hotlists.models import Entry
from ringfence.hotlists.patterns import Pattern
from ringfence.store.driver import placeholder

__all__ = ["InForce"]

_CHUNK: Final = 50_000
#: The integer columns held per entry, in this order (a NULL length, any length, is held as 0).
_NUMBERS: Final = (
    "id",
    "hotlist_id",
    "prefix",
    "prefix_len",
    "COALESCE(length, 0)",
    "first_seen_ms",
    "last_seen_ms",
    "first_version",
    "last_version",
)
_ID, _PREFIX, _PREFIX_LEN, _LENGTH = 0, 2, 3, 4


class InForce:
    """The entries in force, sorted by id; :meth:`entry` gives one back as an :class:`Entry`."""

    __slots__ = ("derived", "numbers", "source_at", "sources")

    def __init__(
        self,
        numbers: npt.NDArray[np.int64],
        derived: npt.NDArray[np.bool_],
        source_at: npt.NDArray[np.int32],
        sources: tuple[str | None, ...],
    ) -> None:
        """Private: use :meth:`load`. ``numbers``: one row per entry, the :data:`_NUMBERS` columns, by id."""
        self.numbers = numbers
        self.derived = derived
        self.source_at = source_at
        self.sources = sources

    @classmethod
    def load(cls, conn: Connection) -> InForce:
        """The entries in force of every list, read from the driver a chunk at a time (no Row object per entry)."""
        mark = placeholder(conn)
        sql = (
            f"SELECT {', '.join(_NUMBERS)}, CASE WHEN derived THEN 1 ELSE 0 END, source "
            f"FROM hotlist_entries WHERE present = {mark} ORDER BY id"
        )
        blocks: list[npt.NDArray[np.int64]] = []
        sources: dict[str | None, int] = {}
        source_at: list[npt.NDArray[np.int32]] = []
        cursor = conn.connection.cursor()
        try:
            cursor.execute(sql, (True,))
            while rows := cursor.fetchmany(_CHUNK):
                width = len(_NUMBERS) + 1
                flat = np.fromiter(chain.from_iterable(row[:width] for row in rows), np.int64, count=len(rows) * width)
                blocks.append(flat.reshape(-1, width))
                at = sources.setdefault
                source_at.append(np.fromiter((at(row[width], len(sources)) for row in rows), np.int32, len(rows)))
        finally:
            cursor.close()
        table = np.concatenate(blocks) if blocks else np.zeros((0, len(_NUMBERS) + 1), np.int64)
        numbers = np.ascontiguousarray(table[:, : len(_NUMBERS)])
        at_source = np.concatenate(source_at) if source_at else np.zeros(0, np.int32)
        return cls(numbers, table[:, len(_NUMBERS)].astype(np.bool_), at_source, tuple(sources))

    def __len__(self) -> int:
        return len(self.numbers)

    def matcher(self) -> RangeMatcher:
        """A matcher over these entries, answering their ids."""
        n = self.numbers
        return RangeMatcher.build(n[:, _PREFIX], n[:, _PREFIX_LEN], n[:, _LENGTH], n[:, _ID])

    def entry(self, entry_id: int) -> Entry:
        """The entry of id ``entry_id`` (one the matcher answered)."""
        ids = self.numbers[:, _ID]
        i = int(np.searchsorted(ids, entry_id))
        if i >= len(ids) or int(ids[i]) != entry_id:
            raise KeyError(entry_id)
        _, hotlist_id, prefix, prefix_len, length, first_seen, last_seen, first, last = self.numbers[i].tolist()
        return Entry(
            id=entry_id,
            hotlist_id=hotlist_id,
            pattern=Pattern(prefix, prefix_len, length or None).text,
            prefix=prefix,
            prefix_len=prefix_len,
            length=length or None,
            source=self.sources[int(self.source_at[i])],
            first_seen_ms=first_seen,
            last_seen_ms=last_seen,
            first_version=first,
            last_version=last,
            present=True,
            derived=bool(self.derived[i]),
        )
