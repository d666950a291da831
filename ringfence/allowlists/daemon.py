"""The allowlists' daemon on a serving node: notice writes made elsewhere (another node, the CLI) and reload."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from ringfence.daemons import Daemon

if TYPE_CHECKING:
    from ringfence.runtime import Runtime

__all__ = ["DAEMON"]

log = logging.getLogger("ringfence.allowlists")


async def _follow(runtime: Runtime) -> None:
    """Every ``feed_poll_ms``: read the allowlists' version counter, and reload when it moved (one small query)."""
    interval = runtime.settings.feed_poll_ms / 1000
    while True:
        await asyncio.sleep(interval)
        if await asyncio.to_thread(runtime.allowlists.refresh):
            log.debug("allowlists: reloaded at version %d", runtime.allowlists.version)


DAEMON = Daemon("allowlists-refresh", _follow, lambda runtime: runtime.settings.feed_poll_ms > 0)
