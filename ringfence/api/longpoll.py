"""Long-polling over an in-process notification: what ``GET …/events?wait=`` of hotlists and alerts share."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool

__all__ = ["wait_for_events"]

T = TypeVar("T")


async def wait_for_events(
    subscribe: Callable[[Callable[[Any], None]], Callable[[], None]],
    read: Callable[[], list[T]],
    wait: float,
    *,
    poll_s: float | None = None,
) -> list[T]:
    """``read()`` again whenever ``subscribe``'s notification fires (and every ``poll_s``, for what other processes
    wrote), until it answers something or ``wait`` seconds have passed; the last answer."""
    loop = asyncio.get_running_loop()
    arrived = asyncio.Event()

    def wake(_event: Any) -> None:
        loop.call_soon_threadsafe(arrived.set)

    deadline = time.monotonic() + wait
    stop = await run_in_threadpool(subscribe, wake)
    try:
        while True:
            found = await run_in_threadpool(read)  # one may have come while subscribing, or from elsewhere
            left = deadline - time.monotonic()
            if found or left <= 0:
                return found
            arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(arrived.wait(), left if poll_s is None else min(left, poll_s))
    finally:
        stop()
