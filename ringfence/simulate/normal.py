"""Ordinary traffic: the home network's subscribers calling and being called, by the daily rhythm.

Most calls are domestic (to a subscriber's favourite contacts), a few international (to large, ordinary countries,
never to the ranges attacks use, so a hotlist written by the simulator covers none of them); a fifth or so go
unanswered; some incoming callers withhold their number. Connected durations are log-normal (median 75 s domestic,
150 s international), as measured call-holding times are; few calls are shorter than 6 s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from ringfence.cdrs.models import Direction

from .calls import NORMAL, Calls, cost_of, durations_ms
from .numbering import Kind
from .subscribers import Route, rate_per_min
from .world import World

__all__ = ["INTERNATIONAL", "NormalTraffic", "normal_calls"]

#: Where ordinary international calls go: large countries with no IRSF-prone ranges among the numbers drawn.
INTERNATIONAL: Final = ("US", "DE", "FR", "ES", "IT", "NL", "PL", "IN", "PK", "NG", "PH", "RO", "TR", "PT", "IE")


@dataclass(frozen=True, slots=True)
class NormalTraffic:
    """How the subscribers call: ``calls_per_day`` per subscriber on average (made and received, heavy users more),
    the shares of incoming, international, unanswered and withheld calls, and ``contacts`` favourites each."""

    calls_per_day: float = 4.0
    incoming_share: float = 0.45
    international_share: float = 0.07
    answered_share: float = 0.78
    withheld_share: float = 0.04
    contacts: int = 25
    countries: tuple[str, ...] = INTERNATIONAL


def normal_calls(world: World, traffic: NormalTraffic) -> Calls:
    rng, subs = world.rng, world.subscribers
    count = round(len(subs) * traffic.calls_per_day * world.period.hours / 24)
    who = rng.choice(len(subs), size=count, p=subs.activity / subs.activity.sum())
    incoming = rng.random(count) < traffic.incoming_share
    abroad = rng.random(count) < traffic.international_share

    remote = world.contacts(who, world.domestic, traffic.contacts, salt=1)
    countries = [c for c in traffic.countries if c != world.home]
    n_abroad = int(abroad.sum())
    if n_abroad and countries:
        pools = [world.foreign(c, Kind.MOBILE if i % 3 else Kind.FIXED) for i, c in enumerate(countries)]
        foreign = np.concatenate(pools)
        remote[abroad] = world.contacts(who[abroad], foreign, 4, salt=2)
    else:
        abroad[:] = False
    own = subs.msisdn[who]
    remote = np.where(remote == own, world.domestic[0], remote)  # nobody calls themselves
    if (remote == own).any():
        remote = np.where(remote == own, world.domestic[1], remote)

    withheld = incoming & (rng.random(count) < traffic.withheld_share)
    caller = np.where(incoming, np.where(withheld, 0, remote), own)
    called = np.where(incoming, own, remote)
    answered = rng.random(count) < traffic.answered_share
    median = np.where(abroad, 150.0, 75.0)
    duration = np.where(answered, durations_ms(rng, median, 1.0), 0)

    # routes: 0-2 domestic trunks, 3-4 international carriers, 5-6 incoming gateways
    routes = (*Route.DOMESTIC, *Route.INTERNATIONAL, Route.IN_DOMESTIC, Route.IN_INTERNATIONAL)
    route = np.where(
        incoming,
        np.where(abroad, 6, 5),
        np.where(abroad, 3 + rng.integers(0, 2, count), rng.integers(0, 3, count)),
    ).astype(np.int32)
    rate = np.where(incoming, 0.0, np.where(abroad, rate_per_min("international"), rate_per_min("domestic")))
    return Calls(
        caller=caller.astype(np.int64),
        called=called.astype(np.int64),
        start_ms=world.period.rhythm(rng, count),
        duration_ms=duration.astype(np.int64),
        answered=answered,
        direction=np.where(incoming, Direction.INCOMING, Direction.OUTGOING).astype(np.int8),
        subscriber=subs.imsi[who],
        route=route,
        routes=routes,
        cost=cost_of(duration, rate),
        scenario=NORMAL,
        instance="",
    )
