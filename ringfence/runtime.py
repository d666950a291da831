"""The composition root: settings → store → services → index. Every front door (HTTP, CLI) starts here."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from sqlalchemy import Engine

from ringfence.alerts.service import AlertService
from ringfence.allowlists import AllowlistService
from ringfence.allowlists.guard import refusals
from ringfence.clock import Clock, SystemClock
from ringfence.config import Settings
from ringfence.disputes import DisputeService
from ringfence.feed.hub import ChangeHub
from ringfence.feed.service import ChangeFeed
from ringfence.hotlists.service import HotlistService
from ringfence.monitoring.service import MonitorService
from ringfence.registry.index import ListingIndex
from ringfence.registry.members import MemberService
from ringfence.registry.models import Member, RemovalReason, Role
from ringfence.registry.scoring import Scorer, parse_models
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
    allowlists: AllowlistService
    disputes: DisputeService
    hotlists: HotlistService
    alerts: AlertService
    monitor: MonitorService

    @classmethod
    def open(cls, settings: Settings, *, clock: Clock | None = None, load_index: bool = True) -> Runtime:
        """Open (and migrate) the store and build the services; ``load_index`` fills the lookup index."""
        clock = clock or SystemClock()
        engine = open_store(settings.database_url)
        feed = ChangeFeed(engine, ListingIndex(), ChangeHub(settings.stream_queue))
        registry = RegistryService(engine, clock, feed, Scorer(parse_models(settings.decay_models)))
        hotlists = HotlistService(engine, clock, settings)
        alerts = AlertService(engine, clock, registry, incident_gap_ms=settings.incident_gap_s * 1000)
        runtime = cls(
            settings=settings,
            engine=engine,
            clock=clock,
            members=MemberService(engine, clock, settings.key_cache_size),
            registry=registry,
            feed=feed,
            allowlists=AllowlistService(engine, clock),
            disputes=DisputeService(engine, clock, registry),
            hotlists=hotlists,
            alerts=alerts,
            monitor=MonitorService(engine, clock, settings, hotlists, alerts),
        )
        runtime._wire_allowlists()
        if load_index:
            started = time.perf_counter()
            count = runtime.registry.load_index()
            runtime.allowlists.load()
            log.info("index loaded: %d listings in %.2f s", count, time.perf_counter() - started)
        return runtime

    def _wire_allowlists(self) -> None:
        """The never-list refuses reports of its numbers, and an admin's new entry takes listings off the registry
        (a member publishing its own number protects it from new reports, but does not remove a listing itself:
        otherwise any reporter could clear any number by claiming it)."""
        registry, allowlists = self.registry, self.allowlists

        def on_protected(actor: Member | None, number: int, note: str) -> bool:
            if actor is not None and not actor.role.allows(Role.ADMIN):
                return False
            return registry.retire(actor, number, reason=RemovalReason.REMOVED, note=note).before is not None

        registry.guard = lambda numbers: refusals(allowlists, numbers)
        allowlists.on_protected = on_protected
        allowlists.listed_numbers = registry.index.numbers

    def close(self) -> None:
        self.engine.dispose()
