"""What the change feed carries: one :class:`Change` per registry change, numbered by a strictly increasing ``seq``.

A change says what happened to a number (``kind``) and how its listing stands afterwards (``listing``; ``None`` when
the number is no longer listed). It never says who reported: the feed goes to every member.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from ringfence.registry.index import Listing

__all__ = ["KINDS", "KIND_CODES", "Change", "ChangeBatch", "ChangeKind"]


class ChangeKind(StrEnum):
    """Why a listing changed. The order is stored (as codes): append, never reorder."""

    LISTED = "listed"  # a number not listed before was reported
    REREPORTED = "re_reported"  # a listed number was reported again
    WITHDRAWN = "withdrawn"  # a member withdrew its report (the number may stay listed on others' reports)
    REMOVED = "removed"  # an admin took the number off the registry
    EXPIRED = "expired"  # decay took the listing below its threshold
    OWNER_CHANGE = "owner_change"  # the number was disconnected or reassigned after its last report
    DISPUTE = "dispute"  # a dispute about the number was upheld
    UPDATED = "updated"  # any other change of a listing (pinning, an admin's correction)


KINDS: tuple[ChangeKind, ...] = tuple(ChangeKind)
KIND_CODES: dict[ChangeKind, int] = {kind: code for code, kind in enumerate(KINDS)}
#: The columns of a change, in the order of the ``changes`` table and of :meth:`ChangeBatch.rows`.
COLUMNS = (
    "seq",
    "at_ms",
    "kind",
    "number",
    "listed",
    "first_ms",
    "last_ms",
    "report_count",
    "reporter_count",
    "categories",
    "weight",
    "flags",
)


@dataclass(frozen=True, slots=True)
class Change:
    seq: int
    at_ms: int  # when the change was made (the writing node's clock)
    kind: ChangeKind
    number: int  # E.164 digits
    listing: Listing | None  # the listing after the change; None: the number is no longer listed
    categories: int  # category bits of the listing after the change, or before it for a removal


@dataclass(frozen=True)
class ChangeBatch:
    """Consecutive changes as columns (one write makes thousands at once): ``seq`` strictly increasing.

    ``after`` is the seq before the first change of the batch (``seq[0] - 1``), so a follower that has applied
    exactly ``after`` can apply the batch without asking the store what came between.
    """

    seq: npt.NDArray[np.int64]
    at_ms: npt.NDArray[np.int64]
    kind: npt.NDArray[np.int64]  # KIND_CODES
    number: npt.NDArray[np.int64]
    listed: npt.NDArray[np.bool_]
    first_ms: npt.NDArray[np.int64]  # 0 where not listed
    last_ms: npt.NDArray[np.int64]
    report_count: npt.NDArray[np.int64]
    reporter_count: npt.NDArray[np.int64]
    categories: npt.NDArray[np.int64]
    weight: npt.NDArray[np.int64]  # 0 where not listed
    flags: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.seq)

    @property
    def after(self) -> int:
        return int(self.seq[0]) - 1 if len(self.seq) else 0

    @property
    def last(self) -> int:
        return int(self.seq[-1]) if len(self.seq) else 0

    @classmethod
    def from_rows(cls, rows: list[tuple[int, ...]]) -> ChangeBatch:
        """From (seq, at_ms, kind code, number, listed 0/1, first, last, reports, reporters, categories, weight,
        flags) rows."""
        array = np.array(rows, dtype=np.int64).reshape(-1, len(COLUMNS))
        return cls(
            seq=array[:, 0].copy(),
            at_ms=array[:, 1].copy(),
            kind=array[:, 2].copy(),
            number=array[:, 3].copy(),
            listed=array[:, 4].astype(bool),
            first_ms=array[:, 5].copy(),
            last_ms=array[:, 6].copy(),
            report_count=array[:, 7].copy(),
            reporter_count=array[:, 8].copy(),
            categories=array[:, 9].copy(),
            weight=array[:, 10].copy(),
            flags=array[:, 11].copy(),
        )

    def rows(self) -> list[tuple[int, ...]]:
        """The inverse of :meth:`from_rows` (plain ints)."""
        columns = (
            self.seq,
            self.at_ms,
            self.kind,
            self.number,
            self.listed.astype(np.int64),
            self.first_ms,
            self.last_ms,
            self.report_count,
            self.reporter_count,
            self.categories,
            self.weight,
            self.flags,
        )
        return list(zip(*(c.tolist() for c in columns), strict=True))

    def changes(self) -> list[Change]:
        """One :class:`Change` per row, in seq order."""
        out: list[Change] = []
        for seq, at, kind, number, listed, first, last, count, reporters, cats, weight, flags in self.rows():
            listing = Listing(number, first, last, count, reporters, cats, weight, flags) if listed else None
            out.append(Change(seq, at, KINDS[kind], number, listing, cats))
        return out

    def select(self, mask: npt.NDArray[np.bool_]) -> ChangeBatch:
        return ChangeBatch(
            *(getattr(self, name)[mask] for name in COLUMNS),
        )
