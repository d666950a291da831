"""The composition root: settings → store → services → index. Every front door (HTTP, CLI) starts here."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from sqlalchemy import Engine

from ringfence.clock import Clock, SystemClock
from ringfence.config import Settings
from ringfence.feed.hub import ChangeHub
from ringfence.feed.service import ChangeFeed
from ringfence.registry.index import ListingIndex
from ringfence.registry.members import MemberService
from ringfence.registry.service import RegistryService
from ringfence.store import open_store

__all__ = ["Runtime"]

log = logging.getLogger("ringfence")


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    clock: Clock
    members: MemberService
    registry: RegistryService
    feed: ChangeFeed

    @classmethod
    def open(cls, settings: Settings, *, clock: Clock | None = None, load_index: bool = True) -> Runtime:
        """Open (and migrate) the store and build the services; ``load_index`` fills the lookup index."""
        clock = clock or SystemClock()
        engine = open_store(settings.database_url)
        feed = ChangeFeed(engine, ListingIndex(), ChangeHub(settings.stream_queue))
        runtime = cls(
            settings=settings,
            engine=engine,
            clock=clock,
            members=MemberService(engine, clock, settings.key_cache_size),
            registry=RegistryService(engine, clock, feed),
            feed=feed,
        )
        if load_index:
            started = time.perf_counter()
            count = runtime.registry.load_index()
            log.info("index loaded: %d listings in %.2f s", count, time.perf_counter() - started)
        return runtime

    def close(self) -> None:
        self.engine.dispose()
