"""The CDR quarantine: the rows a monitoring run could not use, kept so the member who sent them can see why.

An HTTP upload answers its bad rows at once and the CLI prints them, but records that arrive on a NATS subject or in
a followed file have no one to answer; every run therefore stores what it quarantined (``cdr_quarantine``), at most
:data:`MAX_STORED` rows per input (the count is always exact), and ``GET /v1/cdrs/quarantine`` pages through them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy import Engine

from ringfence.cdrs.models import Quarantined
from ringfence.store.tables import cdr_quarantine

__all__ = ["MAX_STORED", "QuarantineStore", "StoredRow"]

#: The most bad rows kept per input (a file of garbage must not fill the store).
MAX_STORED: Final = 1000
_RAW_CHARS: Final = 500


@dataclass(frozen=True, slots=True)
class StoredRow:
    id: int
    member_id: int
    source: str
    at_ms: int
    row: Quarantined

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "source": self.source, "at_ms": self.at_ms, **self.row.to_dict()}


class QuarantineStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, member_id: int, source: str, rows: Sequence[Quarantined], at_ms: int) -> int:
        """Keep the first :data:`MAX_STORED` of ``rows``; answers how many were kept."""
        kept = [
            {
                "member_id": member_id,
                "source": source[:1000],
                "line": row.line,
                "reason": row.reason[:40],
                "message": row.message[:1000],
                "raw": row.raw[:_RAW_CHARS],
                "at_ms": at_ms,
            }
            for row in rows[:MAX_STORED]
        ]
        if kept:
            with self.engine.begin() as conn:
                conn.execute(cdr_quarantine.insert(), kept)
        return len(kept)

    def rows(self, member_id: int | None, *, before: int | None = None, limit: int = 100) -> list[StoredRow]:
        """The newest rows first (of one member, or of all for None), below id ``before`` when paging."""
        q = sa.select(cdr_quarantine).order_by(cdr_quarantine.c.id.desc()).limit(limit)
        if member_id is not None:
            q = q.where(cdr_quarantine.c.member_id == member_id)
        if before is not None:
            q = q.where(cdr_quarantine.c.id < before)
        with self.engine.connect() as conn:
            found = conn.execute(q).mappings().all()
        return [
            StoredRow(
                id=r["id"],
                member_id=r["member_id"],
                source=r["source"],
                at_ms=r["at_ms"],
                row=Quarantined(line=r["line"], reason=r["reason"], message=r["message"], raw=r["raw"]),
            )
            for r in found
        ]
