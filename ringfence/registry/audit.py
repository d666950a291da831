"""The audit log: who changed a listing, when, why, and how it stood before and after.

Every removal (withdrawal of the last report, an admin's removal, decay expiry, owner change, an upheld dispute) and
every pin, unpin and flag change is written in the same transaction as the change itself, so the log and the registry
never disagree. Admins query it; the change feed tells members, without the actor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, select

from ringfence.registry.index import Listing
from ringfence.store.driver import placeholder
from ringfence.store.tables import audit

__all__ = ["AuditEntry", "AuditLog"]

_COLUMNS = ("at_ms", "actor_id", "action", "number", "reason", "note", "before_json", "after_json")


_STATE = (
    '{{"number":{},"first_ms":{},"last_ms":{},"report_count":{},"reporter_count":{},"categories":{},'
    '"weight":{},"flags":{}}}'
).format


def _state(listing: Listing | None) -> str | None:
    """A listing as a JSON object of its fields (all integers: a template, not a serialiser; sweeps write millions)."""
    return None if listing is None else _STATE(*listing)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at_ms: int
    actor_id: int | None
    action: str
    number: int | None
    reason: str | None
    note: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @staticmethod
    def write(
        conn: Connection,
        *,
        at_ms: int,
        actor_id: int | None,
        action: str,
        number: int | None,
        reason: str | None = None,
        note: str | None = None,
        before: Listing | None = None,
        after: Listing | None = None,
    ) -> None:
        """One entry, in ``conn``'s transaction."""
        AuditLog.write_many(conn, at_ms, actor_id, action, reason, note, [(before, after)], [number])

    @staticmethod
    def write_many(
        conn: Connection,
        at_ms: int,
        actor_id: int | None,
        action: str,
        reason: str | None,
        note: str | None,
        states: Sequence[tuple[Listing | None, Listing | None]],
        numbers: Sequence[int | None],
    ) -> None:
        """Entries of one action over many numbers (a sweep, an import), in one statement."""
        if not states:
            return
        mark = placeholder(conn)
        sql = f"INSERT INTO audit ({', '.join(_COLUMNS)}) VALUES ({', '.join([mark] * len(_COLUMNS))})"
        rows = [
            (at_ms, actor_id, action, number, reason, note, _state(before), _state(after))
            for number, (before, after) in zip(numbers, states, strict=True)
        ]
        cursor = conn.connection.cursor()
        try:
            cursor.executemany(sql, rows)
        finally:
            cursor.close()

    def query(
        self,
        *,
        number: int | None = None,
        action: str | None = None,
        since_ms: int | None = None,
        limit: int = 100,
        before: int | None = None,
    ) -> list[AuditEntry]:
        """Entries, newest first; ``before`` is the id of the last entry of the previous page."""
        query = select(audit)
        if number is not None:
            query = query.where(audit.c.number == number)
        if action is not None:
            query = query.where(audit.c.action == action)
        if since_ms is not None:
            query = query.where(audit.c.at_ms >= since_ms)
        if before is not None:
            query = query.where(audit.c.id < before)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(audit.c.id.desc()).limit(limit)).all()
        return [
            AuditEntry(
                id=int(r.id),
                at_ms=int(r.at_ms),
                actor_id=r.actor_id,
                action=r.action,
                number=r.number,
                reason=r.reason,
                note=r.note,
                before=None if r.before_json is None else orjson.loads(r.before_json),
                after=None if r.after_json is None else orjson.loads(r.after_json),
            )
            for r in rows
        ]
