"""Following the feed from a seq: replay from the store, then live from the hub, with no gap and no duplicate.

The replay runs without a live subscription (a reader far behind does not fill a queue while it catches up); then
the subscription is opened and the store read once more, for what was committed in between. From then on changes
come from the hub; anything at or below the seq already handed out is dropped, so each change is seen once. A change
is published only after its commit, so whatever the hub shows the store already holds.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from ringfence.errors import Gone
from ringfence.feed.filters import ChangeFilter
from ringfence.feed.hub import SlowSubscriber
from ringfence.feed.models import Change
from ringfence.feed.service import ChangeFeed

__all__ = ["check_since", "follow"]

_PAGE = 1_000


def check_since(feed: ChangeFeed, since: int) -> None:
    """Refuse a starting point older than retention, saying what to do instead."""
    floor = feed.log.floor()
    if since < floor:
        raise Gone(
            f"changes after seq {since} are no longer kept (retention has deleted up to seq {floor}); "
            "take a snapshot (GET /v1/export or a snapshot file) and follow the feed from its seq",
            code="since_expired",
            details={"since": since, "floor": floor, "head": feed.log.head()},
        )


async def _replay(feed: ChangeFeed, cursor: int, where: ChangeFilter) -> AsyncIterator[tuple[list[Change], int]]:
    while True:
        changes, reached = await asyncio.to_thread(feed.log.read_page, cursor, _PAGE, where)
        if reached == cursor:
            return
        cursor = reached
        yield changes, cursor


async def follow(
    feed: ChangeFeed, since: int, where: ChangeFilter, keepalive_s: float, max_pending: int | None = None
) -> AsyncIterator[list[Change]]:
    """Changes with seq > ``since`` that pass ``where``, in seq order, for ever; ``[]`` after ``keepalive_s`` idle.

    Raises :class:`~ringfence.feed.hub.SlowSubscriber` when the reader falls too far behind the live stream."""
    cursor = since
    async for changes, reached in _replay(feed, cursor, where):
        cursor = reached
        if changes:
            yield changes
    sub = feed.hub.subscribe(where, max_pending)
    try:
        async for changes, reached in _replay(feed, cursor, where):
            cursor = reached
            if changes:
                yield changes
        while True:
            try:
                live = await sub.get(keepalive_s)
            except SlowSubscriber as exc:
                raise SlowSubscriber(exc.pending, cursor) from None
            fresh = [c for c in live if c.seq > cursor]
            if live and not fresh:
                continue
            if fresh:
                cursor = fresh[-1].seq
            yield fresh
    finally:
        sub.close()
