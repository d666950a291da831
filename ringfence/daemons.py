"""Background daemons of a serving node: what runs beside the HTTP API in the same process and event loop.

A daemon is a named coroutine factory that runs until cancelled (the change-feed follower, the DNS front door, the
SFTP server, the file scheduler, webhook delivery, …). :func:`start_daemons` starts every daemon the settings
enable, as asyncio tasks in the serving event loop (the ASGI lifespan does this); a daemon that crashes is logged
and restarted after a pause, so one faulty front door never takes the API down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ringfence.runtime import Runtime

__all__ = ["Daemon", "Daemons", "start_daemons"]

log = logging.getLogger("ringfence.daemons")

#: How long a crashed daemon waits before it is started again, in seconds.
RESTART_DELAY_S = 1.0


@dataclass(frozen=True)
class Daemon:
    """``run(runtime)`` serves until cancelled; ``enabled(runtime)`` says whether the settings ask for it."""

    name: str
    run: Callable[[Runtime], Awaitable[None]]
    enabled: Callable[[Runtime], bool] = lambda _runtime: True


class Daemons:
    """The running daemons of one process; :meth:`stop` cancels them and waits for them to finish."""

    def __init__(self, tasks: dict[str, asyncio.Task[None]]) -> None:
        self.tasks = tasks

    async def stop(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        for task in self.tasks.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def _supervise(daemon: Daemon, runtime: Runtime) -> None:
    while True:
        try:
            await daemon.run(runtime)
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("daemon %s failed; restarting in %.0f s", daemon.name, RESTART_DELAY_S)
            await asyncio.sleep(RESTART_DELAY_S)


def all_daemons() -> list[Daemon]:
    """Every daemon ringfence has, in start order (each module declares its own)."""
    from ringfence.allowlists.daemon import DAEMON as ALLOWLISTS
    from ringfence.dns.server import DAEMON as DNS
    from ringfence.feed.bus import BUS
    from ringfence.feed.daemon import FOLLOW, PRUNE
    from ringfence.files.scheduler import DAEMON as FILES
    from ringfence.files.sftp import DAEMON as SFTP
    from ringfence.hotlists.daemon import DAEMON as HOTLISTS
    from ringfence.monitoring.nats import DAEMON as CDRS
    from ringfence.registry.sweep import SWEEP
    from ringfence.webhooks.daemon import DAEMON as WEBHOOKS

    return [BUS, FOLLOW, PRUNE, ALLOWLISTS, SWEEP, DNS, FILES, SFTP, WEBHOOKS, HOTLISTS, CDRS]


def start_daemons(runtime: Runtime, daemons: list[Daemon] | None = None) -> Daemons:
    """Start the enabled daemons in the running event loop."""
    chosen = all_daemons() if daemons is None else daemons
    tasks = {
        d.name: asyncio.create_task(_supervise(d, runtime), name=f"ringfence:{d.name}")
        for d in chosen
        if d.enabled(runtime)
    }
    if tasks:
        log.info("daemons started: %s", ", ".join(tasks))
    return Daemons(tasks)
