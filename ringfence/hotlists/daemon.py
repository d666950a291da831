"""The hotlists' daemon on a serving node: auto-sync lists from their folders and URLs, and notice versions made
elsewhere (another node, the CLI on the same database) so the matcher and the listeners follow them."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import httpx

from ringfence import __version__
from ringfence.daemons import Daemon
from ringfence.hotlists.sync import Syncer

if TYPE_CHECKING:
    from ringfence.runtime import Runtime

__all__ = ["DAEMON", "sync_forever"]

log = logging.getLogger("ringfence.hotlists")


async def sync_forever(runtime: Runtime, syncer: Syncer | None = None) -> None:
    """Every ``feed_poll_ms``: reload if the store's hotlists moved, look at every watched folder, fetch the URLs
    that are due. Until cancelled."""
    service = runtime.hotlists
    syncer = syncer or Syncer(service, max_bytes=runtime.settings.max_bulk_bytes)
    interval = runtime.settings.feed_poll_ms / 1000
    headers = {"User-Agent": f"ringfence/{__version__} hotlist-sync"}
    async with httpx.AsyncClient(headers=headers, follow_redirects=True) as client:
        while True:
            try:
                await asyncio.to_thread(service.refresh)
                for outcome in await syncer.run_once(client):
                    version = outcome.version
                    log.info("hotlist %s: version %d synced from %s", version.hotlist, version.number, version.source)
            except asyncio.CancelledError:
                raise
            except Exception:  # the store away for a moment: try again next time, without a restart
                log.exception("hotlist sync pass failed")
            await asyncio.sleep(interval)


DAEMON = Daemon("hotlists-sync", sync_forever, lambda runtime: runtime.settings.feed_poll_ms > 0)
