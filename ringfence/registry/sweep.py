"""The expiry sweep: every ``decay_sweep_s`` seconds, retire the listings whose score decayed below their threshold.

Lookups already treat a decayed listing as not listed (the score is computed at query time), so the sweep is not
what keeps answers right; it is what keeps the registry clean: the reports stop standing (reason ``expired``), the
listing leaves the store and the index, an audit entry records it, and members hear of it on the change feed
(kind ``expired``). Candidates come from one vectorised pass over the in-memory index, never a scan per query, and
each is checked again against the store before it goes. Every node may run it: the store's write lock makes the
nodes take turns, and a listing another node already retired is simply not found again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from ringfence.daemons import Daemon

if TYPE_CHECKING:
    from ringfence.runtime import Runtime

__all__ = ["SWEEP", "sweep_once"]

log = logging.getLogger("ringfence.sweep")


def sweep_once(runtime: Runtime) -> int:
    """One sweep now; returns how many listings expired."""
    started = time.perf_counter()
    expired = runtime.registry.expire_decayed(runtime.registry.scorer)
    if expired:
        log.info("expiry sweep: %d listings expired in %.2f s", expired, time.perf_counter() - started)
    return expired


async def _run(runtime: Runtime) -> None:
    while True:
        await asyncio.sleep(runtime.settings.decay_sweep_s)
        await asyncio.to_thread(sweep_once, runtime)


SWEEP = Daemon("expiry-sweep", _run, lambda runtime: runtime.settings.decay_sweep_s > 0)
