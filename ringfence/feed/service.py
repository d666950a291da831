"""The change feed of one process: the store's change log applied, in seq order, to the in-memory index and the
live subscribers.

Every change reaches the index and the hub through :class:`ChangeFeed`, whoever made it:

* a write of this process hands its batch over right after its commit (:meth:`ChangeFeed.committed`);
* a change made elsewhere (another node on the same PostgreSQL, a ``ringfence import`` run against the same SQLite
  file) arrives through the bus (:meth:`ChangeFeed.received`) or is found by the periodic :meth:`ChangeFeed.catch_up`.

``applied`` is the newest seq reflected in the index. A batch whose ``after`` is exactly ``applied`` is applied as it
is; anything else (a gap, a batch that overtook another) makes the feed read the store from ``applied`` on, so the
index and the subscribers see every change once, in order, whatever the bus did.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
from sqlalchemy import Engine

from ringfence.feed.hub import ChangeHub
from ringfence.feed.log import ChangeLog
from ringfence.feed.models import ChangeBatch
from ringfence.registry.index import ListingIndex

__all__ = ["ChangeFeed"]

_CATCH_UP_CHUNK = 10_000


class ChangeFeed:
    def __init__(self, engine: Engine, index: ListingIndex, hub: ChangeHub | None = None) -> None:
        self.log = ChangeLog(engine)
        self.index = index
        self.hub = hub or ChangeHub()
        self.applied = 0
        self._lock = threading.RLock()
        #: Called with every batch this process committed, after it is applied (the bus publishes it to others).
        self.on_local: list[Callable[[ChangeBatch], None]] = []

    def start_at(self, seq: int) -> None:
        """The index reflects the store up to ``seq`` (read before the index was loaded)."""
        with self._lock:
            self.applied = seq

    # --- the three ways in ------------------------------------------------------------------------------------
    def committed(self, batch: ChangeBatch) -> None:
        """A batch this process just committed (called by the writer, in seq order, under its write lock)."""
        if not len(batch):
            return
        with self._lock:
            if batch.after == self.applied:
                self._apply(batch)
            else:
                self._catch_up_locked()
        for callback in self.on_local:
            callback(batch)

    def received(self, batch: ChangeBatch) -> None:
        """A batch another node committed, from the bus."""
        if not len(batch):
            return
        with self._lock:
            if batch.last <= self.applied:
                return  # our own, or already read from the store
            if batch.after == self.applied:
                self._apply(batch)
            else:
                self._catch_up_locked()

    def catch_up(self) -> int:
        """Apply whatever the store holds beyond ``applied``; returns how many changes that was."""
        with self._lock:
            return self._catch_up_locked()

    # --- internals ------------------------------------------------------------------------------------------------
    def _catch_up_locked(self) -> int:
        total = 0
        while True:
            batch = self.log.read_batch(self.applied, _CATCH_UP_CHUNK)
            if not len(batch):
                return total
            self._apply(batch)
            total += len(batch)
            if len(batch) < _CATCH_UP_CHUNK:
                return total

    def _apply(self, batch: ChangeBatch) -> None:
        # Each change carries the whole state after it, so only the last change of each number matters.
        if len(np.unique(batch.number)) < len(batch):
            _, last_rev = np.unique(batch.number[::-1], return_index=True)
            batch = batch.select(np.isin(np.arange(len(batch)), len(batch) - 1 - last_rev))
        listed = batch.listed
        if listed.any():
            put = batch.select(listed) if not listed.all() else batch
            self.index.put_many(
                put.number,
                put.first_ms,
                put.last_ms,
                put.report_count,
                put.reporter_count,
                put.categories,
                put.weight,
                put.flags,
            )
        if not listed.all():
            self.index.remove_many(batch.number[~listed])
        self.applied = batch.last
        self.hub.publish(batch)
