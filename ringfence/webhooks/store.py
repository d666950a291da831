"""The webhook tables: webhooks, the durable delivery queue, and the delivery log it doubles as.

Several nodes may share one database, so every step that must happen once is a conditional write whose row count
says who won:

* turning changes into a delivery advances the webhook's cursor ``WHERE cursor_seq = <the cursor read>`` in the
  same transaction as the delivery's insert: a crash loses neither, and two dispatchers never queue a change twice;
* sending a delivery first claims it with a lease (``lease_until_ms``/``leased_by``, taken only when free or
  expired); only the oldest pending delivery of an enabled webhook can be claimed, so one webhook's deliveries go
  out one at a time and in order, whichever node sends them;
* an attempt's result is recorded only by the node holding the lease.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, Row, and_, delete, func, insert, or_, select, update

from ringfence.feed.filters import ChangeFilter
from ringfence.store.tables import members, webhook_deliveries, webhooks
from ringfence.webhooks.models import Delivery, DeliveryKind, DeliveryStatus, Webhook

__all__ = ["Claim", "NewDelivery", "WebhookStore", "new_delivery_id", "new_webhook_id"]

_W = webhooks.c
_D = webhook_deliveries.c
_PENDING = DeliveryStatus.PENDING.value


def new_webhook_id() -> str:
    return "wh_" + secrets.token_hex(8)


def new_delivery_id() -> str:
    return "dl_" + secrets.token_hex(12)


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """A delivery about to be queued (its body already rendered)."""

    id: str
    kind: DeliveryKind
    first_seq: int | None
    last_seq: int | None
    change_count: int
    body: str


@dataclass(frozen=True, slots=True)
class Claim:
    """A delivery this node holds the lease on, with what it takes to send it."""

    row: int
    delivery_id: str
    webhook_id: str
    url: str
    body: str
    attempt: int  # 1 for the first attempt
    secrets: tuple[str, ...]


def _filter(text: str) -> ChangeFilter:
    data = orjson.loads(text)
    return ChangeFilter.parse(data.get("categories"), data.get("countries"), data.get("prefixes"))


def _webhook(row: Row[Any]) -> Webhook:
    return Webhook(
        id=row.id,
        member_id=row.member_id,
        member_name=row.member_name,
        url=row.url,
        where=_filter(row.filter_json),
        description=row.description,
        enabled=bool(row.enabled),
        disabled_reason=row.disabled_reason,
        disabled_ms=row.disabled_ms,
        failures=row.failures,
        cursor=row.cursor_seq,
        created_ms=row.created_ms,
        updated_ms=row.updated_ms,
        secret=row.secret,
        previous_secret=row.previous_secret,
        previous_until_ms=row.previous_until_ms,
    )


def _delivery(row: Row[Any], with_body: bool) -> Delivery:
    return Delivery(
        row=row.id,
        id=row.delivery_id,
        webhook_id=row.webhook_id,
        kind=DeliveryKind(row.kind),
        first_seq=row.first_seq,
        last_seq=row.last_seq,
        change_count=row.change_count,
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        next_attempt_ms=row.next_attempt_ms,
        last_attempt_ms=row.last_attempt_ms,
        last_status=row.last_status,
        last_error=row.last_error,
        created_ms=row.created_ms,
        delivered_ms=row.delivered_ms,
        body=row.body if with_body else None,
    )


_WEBHOOK_SELECT = select(webhooks, members.c.name.label("member_name")).join(members, members.c.id == _W.member_id)
_LOG_COLUMNS = [c for c in webhook_deliveries.c if c.name not in ("body", "lease_until_ms", "leased_by")]


class WebhookStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- webhooks ----------------------------------------------------------------------------------------------
    def insert(
        self,
        *,
        member_id: int,
        url: str,
        where: ChangeFilter,
        description: str | None,
        secret: str,
        cursor: int,
        now_ms: int,
    ) -> str:
        webhook_id = new_webhook_id()
        with self.engine.begin() as conn:
            conn.execute(
                insert(webhooks).values(
                    id=webhook_id,
                    member_id=member_id,
                    url=url,
                    filter_json=orjson.dumps(where.to_dict()).decode(),
                    description=description,
                    secret=secret,
                    enabled=1,
                    failures=0,
                    cursor_seq=cursor,
                    created_ms=now_ms,
                    updated_ms=now_ms,
                )
            )
        return webhook_id

    def get(self, webhook_id: str) -> Webhook | None:
        with self.engine.connect() as conn:
            row = conn.execute(_WEBHOOK_SELECT.where(_W.id == webhook_id)).first()
        return None if row is None else _webhook(row)

    def all(self, member_id: int | None = None) -> list[Webhook]:
        query = _WEBHOOK_SELECT.order_by(_W.created_ms, _W.id)
        if member_id is not None:
            query = query.where(_W.member_id == member_id)
        with self.engine.connect() as conn:
            return [_webhook(row) for row in conn.execute(query)]

    def count(self, member_id: int) -> int:
        with self.engine.connect() as conn:
            query = select(func.count()).select_from(webhooks).where(_W.member_id == member_id)
            return int(conn.execute(query).scalar_one())

    def change(self, webhook_id: str, now_ms: int, **values: Any) -> bool:
        """Set columns of a webhook (``where`` as a ChangeFilter); False when it does not exist."""
        if "where" in values:
            values["filter_json"] = orjson.dumps(values.pop("where").to_dict()).decode()
        with self.engine.begin() as conn:
            result = conn.execute(update(webhooks).where(_W.id == webhook_id).values(updated_ms=now_ms, **values))
        return result.rowcount == 1

    def enable(self, webhook_id: str, now_ms: int, cursor: int | None = None) -> bool:
        """Enable: the failure run starts again, and a delivery given up on is sent again, first."""
        values: dict[str, Any] = {"enabled": 1, "failures": 0, "disabled_reason": None, "disabled_ms": None}
        if cursor is not None:
            values["cursor_seq"] = cursor
        with self.engine.begin() as conn:
            result = conn.execute(update(webhooks).where(_W.id == webhook_id).values(updated_ms=now_ms, **values))
            conn.execute(
                update(webhook_deliveries)
                .where(_D.webhook_id == webhook_id, _D.status == DeliveryStatus.FAILED.value)
                .values(status=_PENDING, next_attempt_ms=now_ms, lease_until_ms=None, leased_by=None)
            )
        return result.rowcount == 1

    def disable(self, webhook_id: str, reason: str, now_ms: int) -> bool:
        """Disable an enabled webhook with ``reason``; False when it was not enabled."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(webhooks)
                .where(_W.id == webhook_id, _W.enabled == 1)
                .values(enabled=0, disabled_reason=reason, disabled_ms=now_ms, updated_ms=now_ms)
            )
        return result.rowcount == 1

    def delete(self, webhook_id: str) -> bool:
        with self.engine.begin() as conn:
            conn.execute(delete(webhook_deliveries).where(_D.webhook_id == webhook_id))
            result = conn.execute(delete(webhooks).where(_W.id == webhook_id))
        return result.rowcount == 1

    # --- the queue: in -----------------------------------------------------------------------------------------
    def active(self) -> list[tuple[str, int, ChangeFilter, int]]:
        """(id, cursor, filter, deliveries pending) of every enabled webhook: what the dispatcher queues changes for."""
        queued = webhook_deliveries.alias("queued")
        pending = (
            select(func.count())
            .select_from(queued)
            .where(queued.c.webhook_id == _W.id, queued.c.status == _PENDING)
            .scalar_subquery()
        )
        query = select(_W.id, _W.cursor_seq, _W.filter_json, pending.label("pending")).where(_W.enabled == 1)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(_W.id))
            return [(row.id, row.cursor_seq, _filter(row.filter_json), int(row.pending)) for row in rows]

    def advance(self, webhook_id: str, cursor: int, reached: int, delivery: NewDelivery | None, now_ms: int) -> bool:
        """Move the cursor from ``cursor`` to ``reached`` and queue ``delivery``, in one transaction.

        False (and nothing written) when the cursor is no longer ``cursor`` (another dispatcher got there first, the
        member moved it) or the webhook is gone or disabled."""
        with self.engine.begin() as conn:
            moved = conn.execute(
                update(webhooks)
                .where(_W.id == webhook_id, _W.cursor_seq == cursor, _W.enabled == 1)
                .values(cursor_seq=reached)
            )
            if moved.rowcount != 1:
                conn.rollback()
                return False
            if delivery is not None:
                self._queue(conn, webhook_id, delivery, now_ms)
        return True

    def queue(self, webhook_id: str, delivery: NewDelivery, now_ms: int) -> bool:
        """Queue a delivery outside the feed (a ping), behind those already queued; False when the webhook is gone."""
        with self.engine.begin() as conn:
            # take the webhook's row lock first, as advance() does, so the queue order is the commit order
            touched = conn.execute(update(webhooks).where(_W.id == webhook_id).values(updated_ms=now_ms))
            if touched.rowcount != 1:
                conn.rollback()
                return False
            self._queue(conn, webhook_id, delivery, now_ms)
        return True

    @staticmethod
    def _queue(conn: Connection, webhook_id: str, delivery: NewDelivery, now_ms: int) -> None:
        conn.execute(
            insert(webhook_deliveries).values(
                delivery_id=delivery.id,
                webhook_id=webhook_id,
                kind=delivery.kind.value,
                first_seq=delivery.first_seq,
                last_seq=delivery.last_seq,
                change_count=delivery.change_count,
                body=delivery.body,
                status=_PENDING,
                attempts=0,
                next_attempt_ms=now_ms,
                created_ms=now_ms,
            )
        )

    # --- the queue: out ----------------------------------------------------------------------------------------
    def _heads(self, now_ms: int) -> Any:
        """The oldest pending delivery of each enabled webhook, not leased by anyone now."""
        older = webhook_deliveries.alias("older")
        head = (
            select(func.min(older.c.id))
            .where(older.c.webhook_id == _D.webhook_id, older.c.status == _PENDING)
            .scalar_subquery()
        )
        return (
            select(_D.id, _D.next_attempt_ms)
            .join(webhooks, _W.id == _D.webhook_id)
            .where(
                _W.enabled == 1,
                _D.status == _PENDING,
                _D.id == head,
                or_(_D.lease_until_ms.is_(None), _D.lease_until_ms < now_ms),
            )
        )

    def due(self, now_ms: int, limit: int) -> list[int]:
        """Rows of deliveries that may be sent now (head of their webhook, due, not leased), most overdue first."""
        query = self._heads(now_ms).where(_D.next_attempt_ms <= now_ms).order_by(_D.next_attempt_ms).limit(limit)
        with self.engine.connect() as conn:
            return [row.id for row in conn.execute(query)]

    def next_due_ms(self, now_ms: int) -> int | None:
        """When the next delivery that is not leased now falls due (may be in the past), or None."""
        query = self._heads(now_ms).order_by(_D.next_attempt_ms).limit(1)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else int(row.next_attempt_ms)

    def claim(self, row: int, node: str, now_ms: int, lease_ms: int) -> Claim | None:
        """Take the lease on delivery ``row`` for ``node``; None when someone else has it, or it is done."""
        with self.engine.begin() as conn:
            taken = conn.execute(
                update(webhook_deliveries)
                .where(
                    _D.id == row,
                    _D.status == _PENDING,
                    or_(_D.lease_until_ms.is_(None), _D.lease_until_ms < now_ms),
                )
                .values(lease_until_ms=now_ms + lease_ms, leased_by=node)
            )
            if taken.rowcount != 1:
                conn.rollback()
                return None
            found = conn.execute(
                select(
                    _D.delivery_id,
                    _D.webhook_id,
                    _D.body,
                    _D.attempts,
                    _W.url,
                    _W.secret,
                    _W.previous_secret,
                    _W.previous_until_ms,
                )
                .join(webhooks, _W.id == _D.webhook_id)
                .where(_D.id == row)
            ).first()
        if found is None:
            return None
        keys = [found.secret]
        if found.previous_secret and found.previous_until_ms is not None and now_ms < found.previous_until_ms:
            keys.append(found.previous_secret)
        return Claim(row, found.delivery_id, found.webhook_id, found.url, found.body, found.attempts + 1, tuple(keys))

    def release(self, node: str) -> int:
        """Give up every lease ``node`` holds (it is stopping): those deliveries may be sent at once elsewhere."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(webhook_deliveries)
                .where(_D.leased_by == node, _D.status == _PENDING)
                .values(lease_until_ms=None, leased_by=None)
            )
        return int(result.rowcount)

    def delivered(self, claim: Claim, node: str, status: int, now_ms: int) -> bool:
        """Record a 2xx; the webhook's failure run ends. False when ``node`` no longer held the lease."""
        with self.engine.begin() as conn:
            done = conn.execute(
                update(webhook_deliveries)
                .where(_D.id == claim.row, _D.leased_by == node, _D.status == _PENDING)
                .values(
                    status=DeliveryStatus.DELIVERED.value,
                    attempts=_D.attempts + 1,
                    last_attempt_ms=now_ms,
                    last_status=status,
                    last_error=None,
                    delivered_ms=now_ms,
                    lease_until_ms=None,
                    leased_by=None,
                )
            )
            if done.rowcount != 1:
                conn.rollback()
                return False
            conn.execute(update(webhooks).where(_W.id == claim.webhook_id, _W.failures != 0).values(failures=0))
        return True

    def failed(
        self,
        claim: Claim,
        node: str,
        *,
        status: int | None,
        error: str,
        now_ms: int,
        retry_in: Callable[[int], int],
        max_failures: int,
        disable_reason: Callable[[int], str],
    ) -> tuple[int, str | None] | None:
        """Record a failed attempt: the webhook's failure run grows by one; below ``max_failures`` the delivery is
        retried in ``retry_in(failures)`` ms, at it the webhook is disabled with ``disable_reason(failures)`` and the
        delivery marked failed. Returns (failures, the reason if this disabled it), or None without the lease."""
        with self.engine.begin() as conn:
            owned = conn.execute(
                update(webhook_deliveries)
                .where(_D.id == claim.row, _D.leased_by == node, _D.status == _PENDING)
                .values(
                    attempts=_D.attempts + 1,
                    last_attempt_ms=now_ms,
                    last_status=status,
                    last_error=error,
                    lease_until_ms=None,
                    leased_by=None,
                )
            )
            if owned.rowcount != 1:
                conn.rollback()
                return None
            conn.execute(update(webhooks).where(_W.id == claim.webhook_id).values(failures=_W.failures + 1))
            hook = conn.execute(select(_W.failures, _W.enabled).where(_W.id == claim.webhook_id)).first()
            failures = 0 if hook is None else int(hook.failures)
            reason: str | None = None
            if hook is not None and hook.enabled and failures >= max_failures:
                reason = disable_reason(failures)
                conn.execute(
                    update(webhooks)
                    .where(_W.id == claim.webhook_id)
                    .values(enabled=0, disabled_reason=reason, disabled_ms=now_ms, updated_ms=now_ms)
                )
                after: dict[str, Any] = {"status": DeliveryStatus.FAILED.value}
            else:
                after = {"next_attempt_ms": now_ms + retry_in(failures)}
            conn.execute(update(webhook_deliveries).where(_D.id == claim.row).values(**after))
        return failures, reason

    # --- the log -----------------------------------------------------------------------------------------------
    def deliveries(
        self, webhook_id: str, limit: int, before: int | None = None, status: DeliveryStatus | None = None
    ) -> list[Delivery]:
        """A webhook's deliveries, newest first, without bodies; ``before``: only rows older than that one."""
        query = select(*_LOG_COLUMNS).where(_D.webhook_id == webhook_id)
        if before is not None:
            query = query.where(_D.id < before)
        if status is not None:
            query = query.where(_D.status == status.value)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(_D.id.desc()).limit(limit))
            return [_delivery(row, with_body=False) for row in rows]

    def delivery(self, webhook_id: str, delivery_id: str) -> Delivery | None:
        query = select(webhook_deliveries).where(and_(_D.webhook_id == webhook_id, _D.delivery_id == delivery_id))
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _delivery(row, with_body=True)

    def prune(self, delivered_before_ms: int) -> int:
        """Delete delivered deliveries older than ``delivered_before_ms``; pending and failed ones stay."""
        with self.engine.begin() as conn:
            result = conn.execute(
                delete(webhook_deliveries).where(
                    _D.status == DeliveryStatus.DELIVERED.value, _D.delivered_ms < delivered_before_ms
                )
            )
        return int(result.rowcount)
