"""The dispute service: members dispute listings, admins uphold or reject them. It knows nothing of HTTP.

A listing with at least one open dispute carries ``FLAG_DISPUTED`` (it weighs less); the flag is set by the first
open dispute and cleared when the last one closes without removing the listing. Every flag change and removal goes
through the registry (``set_flags``, ``retire``), which writes the audit entry and the change-feed event; a dispute
event that changes no listing (a second dispute of a flagged listing, a withdrawal while others stay open) gets its
own audit entry here, so each dispute event leaves exactly one entry in the audit log.

Dispute operations are serialised within the process by one lock, so "is another dispute still open?" and the flag
change it leads to cannot interleave with another dispute's.
"""

from __future__ import annotations

import builtins
import threading
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from ringfence.clock import Clock
from ringfence.disputes.models import (
    Dispute,
    DisputeReason,
    DisputeStatus,
    Outcome,
    parse_dispute_id,
    parse_note,
    parse_outcome,
    parse_reason,
)
from ringfence.errors import Conflict, Forbidden, NotFound
from ringfence.numbers import format_e164
from ringfence.registry.audit import AuditLog
from ringfence.registry.models import FLAG_DISPUTED, Member, RemovalReason, Role
from ringfence.registry.reputation import UPHELD_PENALTY, adjust
from ringfence.registry.service import RegistryService
from ringfence.store.tables import disputes, listings, members

__all__ = ["MAX_PAGE", "DisputeService"]

#: The most disputes one page of :meth:`DisputeService.list` holds.
MAX_PAGE = 1000

_Disputes = builtins.list[Dispute]
_SELECT = select(disputes, members.c.name.label("member_name")).join(members, members.c.id == disputes.c.member_id)


def _dispute(row: Any) -> Dispute:
    return Dispute(
        id=row.id,
        number=row.number,
        member_id=row.member_id,
        member_name=row.member_name,
        reason=DisputeReason(row.reason),
        note=row.note,
        opened_ms=row.opened_ms,
        status=DisputeStatus(row.status),
        resolved_ms=row.resolved_ms,
        resolved_by=row.resolved_by,
        resolution_note=row.resolution_note,
    )


def _not_listed(number: int) -> NotFound:
    shown = format_e164(number)
    return NotFound(
        f"{shown} is not listed: only a listed number can be disputed", code="not_listed", details={"number": shown}
    )


def _closed(dispute: Dispute) -> Conflict:
    return Conflict(
        f"dispute {dispute.id} is {dispute.status.value} already",
        code="dispute_closed",
        details={"id": str(dispute.id), "status": dispute.status.value},
    )


def _audit_note(dispute_id: int, reason: DisputeReason, note: str | None, event: str | None = None) -> str:
    """What the audit entry of a dispute event says: which dispute, why it was opened, and the free text."""
    head = f"dispute {dispute_id} ({reason.value})" + (f" {event}" if event else "")
    return f"{head}: {note}" if note else head


class DisputeService:
    def __init__(self, engine: Engine, clock: Clock, registry: RegistryService) -> None:
        self.engine = engine
        self.clock = clock
        self.registry = registry
        self.audit = AuditLog(engine)
        self._lock = threading.Lock()

    # --- reads ---------------------------------------------------------------------------------------------
    def get(self, dispute_id: int | str, *, member: Member | None = None) -> Dispute:
        """One dispute; with ``member``, only one of that member's (another's is as missing as an unknown id)."""
        key = parse_dispute_id(dispute_id)
        query = _SELECT.where(disputes.c.id == key)
        if member is not None:
            query = query.where(disputes.c.member_id == member.id)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise NotFound(f"no dispute {key}", code="dispute_not_found", details={"id": str(key)})
        return _dispute(row)

    def list(
        self,
        *,
        member: Member | None = None,
        status: DisputeStatus | None = None,
        number: int | None = None,
        limit: int = 100,
        before: int | None = None,
    ) -> _Disputes:
        """Disputes, newest first: one member's (``member``) or everyone's, optionally by status and number.

        ``before`` is a dispute id from a previous page (ids grow in the order disputes are opened).
        """
        query = _SELECT
        if member is not None:
            query = query.where(disputes.c.member_id == member.id)
        if status is not None:
            query = query.where(disputes.c.status == status.value)
        if number is not None:
            query = query.where(disputes.c.number == number)
        if before is not None:
            query = query.where(disputes.c.id < before)
        query = query.order_by(disputes.c.id.desc()).limit(max(1, min(limit, MAX_PAGE)))
        with self.engine.connect() as conn:
            return [_dispute(row) for row in conn.execute(query)]

    # --- writes --------------------------------------------------------------------------------------------
    def open(self, member: Member, number: int, reason: DisputeReason | str, note: str | None = None) -> Dispute:
        """Dispute a listed number; the listing is flagged disputed. One open dispute per member and number."""
        why = parse_reason(reason)
        text = parse_note(note)
        with self._lock:
            now = self.clock.now_ms()
            try:
                with self.engine.begin() as conn:
                    flags = self._flags(conn, number)
                    if flags is None:
                        raise _not_listed(number)
                    self._refuse_second(conn, member, number)
                    dispute_id: int = conn.execute(
                        insert(disputes)
                        .values(
                            number=number,
                            member_id=member.id,
                            reason=why.value,
                            note=text,
                            opened_ms=now,
                            status=DisputeStatus.OPEN.value,
                        )
                        .returning(disputes.c.id)
                    ).scalar_one()
                    flagged = bool(flags & FLAG_DISPUTED)
                    if flagged:
                        self._audit(
                            conn, now, member, "dispute_opened", number, why, _audit_note(dispute_id, why, text)
                        )
            except IntegrityError:  # another node opened the same dispute meanwhile: the partial unique index held
                with self.engine.connect() as conn:
                    self._refuse_second(conn, member, number)
                raise
            if not flagged:
                after = self.registry.set_flags(
                    member,
                    number,
                    add=FLAG_DISPUTED,
                    action="dispute_opened",
                    note=_audit_note(dispute_id, why, text),
                )
                if after is None:  # the listing left between the check and the flag: nothing to dispute
                    with self.engine.begin() as conn:
                        conn.execute(delete(disputes).where(disputes.c.id == dispute_id))
                    raise _not_listed(number)
        return self.get(dispute_id)

    def withdraw(self, member: Member, dispute_id: int | str) -> Dispute:
        """The disputing member takes its dispute back (idempotent); the flag goes when no other dispute is open."""
        key = parse_dispute_id(dispute_id)
        with self._lock:
            dispute = self.get(key, member=member)
            if dispute.status is DisputeStatus.WITHDRAWN:
                return dispute
            if dispute.status is not DisputeStatus.OPEN:
                raise _closed(dispute)
            self._close(dispute, member, DisputeStatus.WITHDRAWN, "dispute_withdrawn", None)
        return self.get(key)

    def resolve(self, admin: Member, dispute_id: int | str, outcome: Outcome | str, note: str | None = None) -> Dispute:
        """An admin decides an open dispute.

        Upheld: the number's standing reports are retired (reason ``dispute``; the listing goes, the feed says
        ``dispute``), every open dispute of the number is upheld with it, and the reporters' reputation drops by
        ``UPHELD_PENALTY``. Rejected: the dispute closes and the listing stays; it loses the disputed flag unless
        another dispute of it is still open.
        """
        if not admin.role.allows(Role.ADMIN):
            raise Forbidden(
                "only an admin can resolve a dispute",
                code="forbidden_role",
                details={"role": admin.role.value, "needed": Role.ADMIN.value},
            )
        decided = parse_outcome(outcome)
        text = parse_note(note)
        key = parse_dispute_id(dispute_id)
        with self._lock:
            dispute = self.get(key)
            if dispute.status is not DisputeStatus.OPEN:
                raise _closed(dispute)
            if decided is Outcome.REJECTED:
                self._close(dispute, admin, DisputeStatus.REJECTED, "dispute_rejected", text)
            else:
                self._uphold(dispute, admin, text)
        return self.get(key)

    # --- internals -----------------------------------------------------------------------------------------
    def _uphold(self, dispute: Dispute, admin: Member, text: str | None) -> None:
        note = _audit_note(dispute.id, dispute.reason, text, "upheld")
        # the listing may have left meanwhile (withdrawn, expired): the dispute is upheld all the same
        retired = self.registry.retire(admin, dispute.number, reason=RemovalReason.DISPUTE, note=note)
        now = self.clock.now_ms()
        with self.engine.begin() as conn:
            conn.execute(
                update(disputes)
                .where(disputes.c.number == dispute.number, disputes.c.status == DisputeStatus.OPEN.value)
                .values(status=DisputeStatus.UPHELD.value, resolved_ms=now, resolved_by=admin.id, resolution_note=text)
            )
            adjust(conn, retired.reporters, -UPHELD_PENALTY)
            if not retired.reports:  # the registry retired nothing, so it wrote no audit entry
                self._audit(conn, now, admin, "dispute_upheld", dispute.number, dispute.reason, note)

    def _close(self, dispute: Dispute, actor: Member, status: DisputeStatus, action: str, text: str | None) -> None:
        """Close one open dispute without removing the listing (withdrawn, rejected), and settle the flag."""
        now = self.clock.now_ms()
        note = _audit_note(dispute.id, dispute.reason, text, status.value)
        with self.engine.begin() as conn:
            closed = conn.execute(
                update(disputes)
                .where(disputes.c.id == dispute.id, disputes.c.status == DisputeStatus.OPEN.value)
                .values(status=status.value, resolved_ms=now, resolved_by=actor.id, resolution_note=text)
            ).rowcount
            if not closed:  # closed by another node meanwhile
                raise _closed(self._reread(conn, dispute))
            flags = self._flags(conn, dispute.number)
            clear = flags is not None and bool(flags & FLAG_DISPUTED) and not self._others_open(conn, dispute.number)
            if not clear:
                self._audit(conn, now, actor, action, dispute.number, dispute.reason, note)
        if clear:
            self.registry.set_flags(actor, dispute.number, remove=FLAG_DISPUTED, action=action, note=note)

    def _audit(
        self, conn: Connection, now: int, actor: Member, action: str, number: int, reason: DisputeReason, note: str
    ) -> None:
        self.audit.write(
            conn, at_ms=now, actor_id=actor.id, action=action, number=number, reason=reason.value, note=note
        )

    @staticmethod
    def _flags(conn: Connection, number: int) -> int | None:
        """The listing's flags as the store holds them; None when the number is not listed."""
        flags = conn.execute(select(listings.c.flags).where(listings.c.number == number)).scalar_one_or_none()
        return None if flags is None else int(flags)

    @staticmethod
    def _others_open(conn: Connection, number: int) -> bool:
        query = select(disputes.c.id).where(disputes.c.number == number, disputes.c.status == DisputeStatus.OPEN.value)
        return conn.execute(query.limit(1)).first() is not None

    @staticmethod
    def _refuse_second(conn: Connection, member: Member, number: int) -> None:
        existing = conn.execute(
            select(disputes.c.id).where(
                disputes.c.member_id == member.id,
                disputes.c.number == number,
                disputes.c.status == DisputeStatus.OPEN.value,
            )
        ).scalar_one_or_none()
        if existing is not None:
            shown = format_e164(number)
            raise Conflict(
                f"you have an open dispute of {shown} already (dispute {existing})",
                code="dispute_exists",
                details={"id": str(existing), "number": shown},
            )

    @staticmethod
    def _reread(conn: Connection, dispute: Dispute) -> Dispute:
        return _dispute(conn.execute(_SELECT.where(disputes.c.id == dispute.id)).one())
