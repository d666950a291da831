"""The dispatcher: changes into durable deliveries, and deliveries claimed, sent and recorded.

Its steps are separate so a test (or an operator's tool) can drive them one at a time:

* :meth:`Dispatcher.enqueue` reads, for every enabled webhook, the changes after its cursor that pass its filter,
  and turns them into deliveries of up to ``webhook_batch`` changes, advancing the cursor in the same transaction;
* :meth:`Dispatcher.claim` leases due deliveries (the oldest pending one of each webhook, nothing behind it);
* :meth:`Dispatcher.deliver` sends one claimed delivery and records the outcome: delivered, or retried later with
  backoff, or, at ``webhook_max_failures`` consecutive failures, the webhook disabled with the reason.

:meth:`Dispatcher.run_once` is all three; the daemon (:mod:`ringfence.webhooks.daemon`) runs them continuously.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import secrets
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx
import orjson

from ringfence.feed.log import ChangeLog
from ringfence.feed.views import change_view
from ringfence.registry.views import iso
from ringfence.webhooks.delivery import USER_AGENT, backoff_ms, headers_for, post
from ringfence.webhooks.models import Attempt, DeliveryKind
from ringfence.webhooks.store import Claim, NewDelivery, WebhookStore, new_delivery_id

if TYPE_CHECKING:
    from ringfence.clock import Clock
    from ringfence.config import Settings
    from ringfence.runtime import Runtime

__all__ = ["Dispatcher", "node_name"]

log = logging.getLogger("ringfence.webhooks")

#: Most deliveries one webhook gets queued in one pass of :meth:`Dispatcher.enqueue` (the others get a turn).
MAX_PAGES_PER_PASS = 20
#: Most deliveries waiting per webhook: they go one at a time anyway, so a webhook further behind (an endpoint
#: being retried, a replay from an old seq) keeps the rest in the change log, behind its cursor, not in the queue.
MAX_QUEUED = 100
#: The shortest lease on a delivery being sent: longer than any attempt may take.
MIN_LEASE_MS = 30_000


def node_name() -> str:
    """This process, as it appears in ``leased_by``: host, pid and a random tag."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(3)}"


class Dispatcher:
    def __init__(
        self,
        store: WebhookStore,
        log: ChangeLog,
        clock: Clock,
        settings: Settings,
        *,
        node: str | None = None,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.store = store
        self.log = log
        self.clock = clock
        self.settings = settings
        self.node = node or node_name()
        self.rand = rand

    @classmethod
    def of(cls, runtime: Runtime, *, node: str | None = None, rand: Callable[[], float] = random.random) -> Dispatcher:
        return cls(
            WebhookStore(runtime.engine), runtime.feed.log, runtime.clock, runtime.settings, node=node, rand=rand
        )

    @property
    def lease_ms(self) -> int:
        return max(MIN_LEASE_MS, 3 * self.settings.webhook_timeout_ms)

    def client(self) -> httpx.AsyncClient:
        """The HTTP client deliveries are sent with (one per daemon: connections are reused)."""
        seconds = self.settings.webhook_timeout_ms / 1000
        return httpx.AsyncClient(
            timeout=httpx.Timeout(seconds),
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
            limits=httpx.Limits(max_connections=max(self.settings.webhook_concurrency, 1) * 2),
        )

    # --- in: changes → deliveries -------------------------------------------------------------------------------
    def enqueue(self) -> int:
        """Queue the changes after every enabled webhook's cursor; returns how many deliveries were queued."""
        hooks = self.store.active()
        if not hooks:
            return 0
        head = self.log.head()
        floor = self.log.floor()
        queued = 0
        for webhook_id, cursor, where, pending in hooks:
            if cursor >= head or pending >= MAX_QUEUED:
                continue
            if cursor < floor:
                reason = (
                    f"changes after seq {cursor} were deleted by retention (up to seq {floor}) before they could be "
                    "queued; take a snapshot (GET /v1/export) and enable the webhook with from_seq set to its seq"
                )
                if self.store.disable(webhook_id, reason, self.clock.now_ms()):
                    log.warning("webhook %s disabled: %s", webhook_id, reason)
                continue
            for _ in range(min(MAX_PAGES_PER_PASS, MAX_QUEUED - pending)):
                changes, reached = self.log.read_page(cursor, self.settings.webhook_batch, where)
                if reached <= cursor:
                    break
                delivery = None
                if changes:
                    delivery_id = new_delivery_id()
                    body = {
                        "delivery_id": delivery_id,
                        "webhook_id": webhook_id,
                        "type": DeliveryKind.CHANGES.value,
                        "changes": [change_view(change) for change in changes],
                    }
                    delivery = NewDelivery(
                        delivery_id,
                        DeliveryKind.CHANGES,
                        changes[0].seq,
                        changes[-1].seq,
                        len(changes),
                        orjson.dumps(body).decode(),
                    )
                if not self.store.advance(webhook_id, cursor, reached, delivery, self.clock.now_ms()):
                    break  # another dispatcher moved it, or the member did: next pass reads it again
                queued += delivery is not None
                cursor = reached
                if reached >= head:
                    break
        return queued

    # --- out: deliveries → endpoints ----------------------------------------------------------------------------
    def claim(self, limit: int) -> list[Claim]:
        """Lease up to ``limit`` due deliveries (at most one per webhook) for this node."""
        now = self.clock.now_ms()
        claims = []
        for row in self.store.due(now, limit):
            claim = self.store.claim(row, self.node, now, self.lease_ms)
            if claim is not None:
                claims.append(claim)
        return claims

    async def send(self, claim: Claim, client: httpx.AsyncClient) -> Attempt:
        """One attempt, signed now."""
        body = claim.body.encode()
        headers = headers_for(
            delivery_id=claim.delivery_id,
            webhook_id=claim.webhook_id,
            attempt=claim.attempt,
            timestamp=self.clock.now_ms() // 1000,
            secrets=claim.secrets,
            body=body,
        )
        return await post(client, claim.url, body, headers, self.settings.webhook_timeout_ms / 1000)

    def record(self, claim: Claim, attempt: Attempt) -> None:
        """Store what an attempt came to (only while this node holds the delivery's lease)."""
        now = self.clock.now_ms()
        if attempt.ok:
            if not self.store.delivered(claim, self.node, attempt.status or 200, now):
                log.warning("webhook %s: delivery %s was sent but its lease had passed", claim.webhook_id, claim.row)
            return
        settings = self.settings
        error = attempt.error or "failed"

        def retry_in(failures: int) -> int:
            delay = backoff_ms(failures, settings.webhook_retry_base_ms, settings.webhook_retry_cap_ms, self.rand)
            if attempt.retry_after_ms is not None:
                delay = max(delay, min(attempt.retry_after_ms, settings.webhook_retry_cap_ms))
            return delay

        def reason(failures: int) -> str:
            return f"{failures} consecutive failed deliveries; last: {error} at {iso(now)}"

        outcome = self.store.failed(
            claim,
            self.node,
            status=attempt.status,
            error=error,
            now_ms=now,
            retry_in=retry_in,
            max_failures=settings.webhook_max_failures,
            disable_reason=reason,
        )
        if outcome is None:
            log.warning("webhook %s: delivery %s failed after its lease had passed", claim.webhook_id, claim.row)
            return
        failures, disabled = outcome
        if disabled is not None:
            log.warning("webhook %s disabled: %s", claim.webhook_id, disabled)
        else:
            log.info(
                "webhook %s: delivery %s attempt %d failed (%s); %d in a row",
                claim.webhook_id,
                claim.delivery_id,
                claim.attempt,
                error,
                failures,
            )

    async def deliver(self, claim: Claim, client: httpx.AsyncClient) -> Attempt:
        """Send a claimed delivery and record the outcome."""
        attempt = await self.send(claim, client)
        await asyncio.to_thread(self.record, claim, attempt)
        return attempt

    async def run_once(self, client: httpx.AsyncClient, limit: int | None = None) -> list[Attempt]:
        """Enqueue, then send what is due now (webhooks in parallel); the attempts made, in claim order."""
        await asyncio.to_thread(self.enqueue)
        claims = await asyncio.to_thread(self.claim, limit or max(self.settings.webhook_concurrency, 1))
        return list(await asyncio.gather(*(self.deliver(claim, client) for claim in claims)))

    def next_due_ms(self) -> int | None:
        return self.store.next_due_ms(self.clock.now_ms())

    def prune(self) -> int:
        """Drop delivered deliveries older than ``webhook_log_retention`` from the log."""
        return self.store.prune(self.clock.now_ms() - self.settings.webhook_log_retention * 1000)
