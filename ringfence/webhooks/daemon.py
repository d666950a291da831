"""The webhook daemon of a serving node: queue changes as they are committed, send what is due, retry, prune.

It wakes when this process commits changes (a subscription to the feed's hub, used only as a doorbell: what to send
is always read from the store), when a delivery it sent finishes (the next one of that webhook may go), when the
next retry falls due, and every ``webhook_poll_ms`` in any case (changes written by other nodes, retries and leases
of other nodes). Sending happens in tasks of their own, one per webhook at a time and ``webhook_concurrency`` at
most, so a slow endpoint delays only its own webhook. Nothing here is on the path of a report.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING

from ringfence.daemons import Daemon
from ringfence.feed.hub import SlowSubscriber
from ringfence.webhooks.dispatcher import Dispatcher
from ringfence.webhooks.store import Claim

if TYPE_CHECKING:
    from ringfence.runtime import Runtime

__all__ = ["DAEMON", "deliver_forever"]

log = logging.getLogger("ringfence.webhooks")

#: How often delivered deliveries older than ``webhook_log_retention`` are dropped from the log, in seconds.
PRUNE_EVERY_S = 600
#: The shortest sleep between passes, so a delivery that is due but leased elsewhere does not spin the loop.
MIN_SLEEP_S = 0.05


async def deliver_forever(runtime: Runtime, dispatcher: Dispatcher | None = None) -> None:
    """Run the dispatcher until cancelled; on the way out, release the leases it holds."""
    dispatcher = dispatcher or Dispatcher.of(runtime)
    settings = runtime.settings
    poll_s = settings.webhook_poll_ms / 1000
    wake = asyncio.Event()
    hub = runtime.feed.hub
    inflight: dict[int, asyncio.Task[None]] = {}

    async def doorbell() -> None:
        sub = hub.subscribe()
        try:
            while True:
                try:
                    if await sub.get():
                        wake.set()
                except SlowSubscriber:  # only a doorbell: start again, and look at the store
                    sub.close()
                    sub = hub.subscribe()
                    wake.set()
        finally:
            sub.close()

    client = await asyncio.to_thread(dispatcher.client)  # loading the TLS trust store takes a while: not in the loop
    async with client:

        async def deliver(claim: Claim) -> None:
            try:
                await dispatcher.deliver(claim, client)
            except Exception:
                log.exception("webhook %s: delivery %s could not be recorded", claim.webhook_id, claim.delivery_id)
            finally:
                inflight.pop(claim.row, None)
                wake.set()

        bell = asyncio.create_task(doorbell(), name="ringfence:webhooks-doorbell")
        pruned = 0.0
        try:
            while True:
                wake.clear()
                await asyncio.to_thread(dispatcher.enqueue)
                free = settings.webhook_concurrency - len(inflight)
                if free > 0:
                    for claim in await asyncio.to_thread(dispatcher.claim, free):
                        inflight[claim.row] = asyncio.create_task(deliver(claim), name=f"ringfence:{claim.delivery_id}")
                if time.monotonic() - pruned > PRUNE_EVERY_S:
                    pruned = time.monotonic()
                    dropped = await asyncio.to_thread(dispatcher.prune)
                    if dropped:
                        log.info("webhooks: %d delivered deliveries dropped from the log", dropped)
                sleep = poll_s
                due = await asyncio.to_thread(dispatcher.next_due_ms)
                if due is not None and len(inflight) < settings.webhook_concurrency:
                    sleep = min(poll_s, max(MIN_SLEEP_S, (due - runtime.clock.now_ms()) / 1000))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), sleep)
        finally:
            bell.cancel()
            tasks = [bell, *inflight.values()]
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            try:
                released = dispatcher.store.release(dispatcher.node)
                if released:
                    log.info("webhooks: %d deliveries in flight released for another attempt", released)
            except Exception:
                log.exception("webhooks: releasing this node's leases failed; they expire by themselves")


DAEMON = Daemon("webhooks", deliver_forever, lambda runtime: runtime.settings.webhook_concurrency > 0)
