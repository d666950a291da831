"""In-process fan-out of changes to live subscribers (SSE and WebSocket streams, webhook delivery).

Changes are published from whichever thread committed them; each subscriber has a bounded queue and an asyncio
event in its own loop. A subscriber that falls more than ``max_pending`` changes behind is cut off (its queue is
dropped and it is told why) rather than slowing the writer or the other subscribers, or growing without bound: it
can resume from the store with the last seq it saw.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque

from ringfence.feed.filters import ChangeFilter
from ringfence.feed.models import Change, ChangeBatch

__all__ = ["ChangeHub", "SlowSubscriber", "Subscription"]


class SlowSubscriber(Exception):
    """The subscriber fell too far behind and was cut off."""

    def __init__(self, pending: int, last_seq: int) -> None:
        super().__init__(f"more than {pending} changes were waiting for this subscriber; resume after seq {last_seq}")
        self.pending = pending
        self.last_seq = last_seq


class Subscription:
    """One live subscriber: :meth:`get` waits for the next changes that pass its filter."""

    def __init__(self, hub: ChangeHub, where: ChangeFilter, max_pending: int) -> None:
        self.hub = hub
        self.where = where
        self.max_pending = max_pending
        self.loop = asyncio.get_running_loop()
        self._ready = asyncio.Event()
        self._queue: deque[Change] = deque()
        self._overflowed = False
        self.last_seq = 0  # the newest seq handed to the subscriber

    def _offer(self, changes: list[Change]) -> bool:
        """Called under the hub's lock from the publishing thread; returns whether the loop must be woken."""
        if self._overflowed or not changes:
            return False
        if len(self._queue) + len(changes) > self.max_pending:
            self._overflowed = True
            self._queue.clear()
        else:
            self._queue.extend(changes)
        return True

    async def get(self, timeout: float | None = None) -> list[Change]:
        """The changes waiting (at least one), oldest first; ``[]`` after ``timeout`` seconds with none.

        Raises :class:`SlowSubscriber` once the subscriber has been cut off."""
        while True:
            with self.hub.lock:
                if self._overflowed:
                    raise SlowSubscriber(self.max_pending, self.last_seq)
                if self._queue:
                    out = list(self._queue)
                    self._queue.clear()
                    self._ready.clear()
                    self.last_seq = out[-1].seq
                    return out
                self._ready.clear()
            if timeout is None:
                await self._ready.wait()
            else:
                try:
                    await asyncio.wait_for(self._ready.wait(), timeout)
                except TimeoutError:
                    return []

    @property
    def pending(self) -> int:
        return len(self._queue)

    def close(self) -> None:
        self.hub.unsubscribe(self)


class ChangeHub:
    """Subscribers of this process; :meth:`publish` is safe from any thread."""

    def __init__(self, max_pending: int = 10_000) -> None:
        self.max_pending = max_pending
        self.lock = threading.Lock()
        self._subscribers: list[Subscription] = []

    def subscribe(self, where: ChangeFilter | None = None, max_pending: int | None = None) -> Subscription:
        """A new subscriber (call from its event loop); it sees every change published from now on."""
        sub = Subscription(self, where or ChangeFilter(), max_pending or self.max_pending)
        with self.lock:
            self._subscribers.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self.lock:
            if sub in self._subscribers:
                self._subscribers.remove(sub)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def publish(self, batch: ChangeBatch) -> None:
        """Hand ``batch`` to every subscriber whose filter it passes (in seq order, as published)."""
        if not len(batch) or not self._subscribers:
            return
        everything: list[Change] | None = None
        wake: list[Subscription] = []
        with self.lock:
            for sub in self._subscribers:
                if sub.where.is_empty():
                    if everything is None:
                        everything = batch.changes()
                    changes = everything
                else:
                    changes = batch.select(sub.where.mask(batch)).changes()
                if sub._offer(changes):
                    wake.append(sub)
        for sub in wake:
            try:
                sub.loop.call_soon_threadsafe(sub._ready.set)
            except RuntimeError:  # its loop is closed: the subscriber is gone
                self.unsubscribe(sub)
