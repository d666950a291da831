"""The feed's daemons on a serving node: read changes made elsewhere, and apply retention."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from ringfence.daemons import Daemon

if TYPE_CHECKING:
    from ringfence.runtime import Runtime

__all__ = ["FOLLOW", "PRUNE"]

log = logging.getLogger("ringfence.feed")

#: How often retention runs, in seconds.
PRUNE_EVERY_S = 600


async def _follow(runtime: Runtime) -> None:
    """Every ``feed_poll_ms``: apply what the store holds beyond what this node applied (writers elsewhere)."""
    interval = runtime.settings.feed_poll_ms / 1000
    while True:
        await asyncio.sleep(interval)
        found = await asyncio.to_thread(runtime.feed.catch_up)
        if found:
            log.debug("feed: %d changes made elsewhere applied (seq %d)", found, runtime.feed.applied)


async def _prune(runtime: Runtime) -> None:
    while True:
        cutoff = runtime.clock.now_ms() - runtime.settings.change_retention * 1000
        deleted = await asyncio.to_thread(runtime.feed.log.prune, cutoff)
        if deleted:
            log.info("feed: retention deleted %d changes (floor now %d)", deleted, runtime.feed.log.floor())
        await asyncio.sleep(PRUNE_EVERY_S)


FOLLOW = Daemon("feed-follow", _follow, lambda runtime: runtime.settings.feed_poll_ms > 0)
PRUNE = Daemon("feed-retention", _prune)
