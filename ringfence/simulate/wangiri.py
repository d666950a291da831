"""Wangiri ("one ring and cut"): a foreign premium range rings many of our subscribers once, and some call back.

A burst comes from a few numbers of one block (the range the fraudster rents), each victim rung once within
minutes, the call cut before or just after it is picked up (unanswered, or connected for a second or two). The
missed call invites a callback; the victims who call back (``callback_share``) reach the number that rang them,
connected to a recording that keeps them on the line at a premium rate. Callbacks come from minutes to an hour or
so after the ring. A hotlist knows the burst by ``hotlisted`` of its source numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from ringfence.cdrs.models import Direction
from ringfence.errors import InvalidInput

from .calls import Calls, Instance, cost_of, durations_ms
from .numbering import Kind, draw_block
from .subscribers import Route, rate_per_min
from .timing import MINUTE_MS
from .world import World

__all__ = ["CALLBACK", "WANGIRI", "WANGIRI_COUNTRIES", "WangiriBurst", "wangiri_calls"]

WANGIRI: Final = "wangiri"
CALLBACK: Final = "wangiri_callback"
#: Countries whose ranges Wangiri campaigns have rented (regions, or non-geographic codes).
WANGIRI_COUNTRIES: Final = ("TN", "MR", "SO", "CI", "NR", "VU", "882")


@dataclass(frozen=True, slots=True)
class WangiriBurst:
    """One burst: ``sources`` numbers of a 100-number block of ``country`` ring ``targets`` distinct subscribers
    within ``minutes``; ``answered_share`` of the rings are picked up (1 to 3 s), ``callback_share`` of the victims
    call back. ``at_h``: start, in hours into the period (default: random)."""

    country: str = "TN"
    sources: int = 3
    targets: int = 250
    minutes: float = 15.0
    answered_share: float = 0.08
    callback_share: float = 0.05
    at_h: float | None = None
    hotlisted: int = 1

    def __post_init__(self) -> None:
        if not (1 <= self.sources <= 50 and self.targets >= 1 and self.minutes > 0):
            raise InvalidInput(
                "a Wangiri burst needs 1 to 50 sources, at least one target and a positive length",
                code="invalid_scenario",
            )


def wangiri_calls(world: World, burst: WangiriBurst, instance: str) -> tuple[list[Calls], Instance]:
    rng, subs = world.rng, world.subscribers
    if burst.targets > len(subs):
        raise InvalidInput(
            f"a Wangiri burst of {burst.targets} targets needs as many subscribers ({len(subs)})",
            code="invalid_size",
        )
    kind = Kind.PREMIUM if burst.country in ("LV", "LT") else Kind.MOBILE
    block = draw_block(rng, burst.country, kind, 2, avoid=tuple(world.blocks))
    world.blocks.append(block)
    sources = rng.choice(block.members, min(burst.sources, block.members.shape[0]), replace=False)
    victims = rng.choice(len(subs), burst.targets, replace=False)
    span = round(burst.minutes * MINUTE_MS)
    start = world.period.pick_start(rng, span, burst.at_h, night=False)
    rings = np.sort(world.period.uniform(rng, burst.targets, start, span))
    ringer = rng.choice(sources, burst.targets)
    picked = rng.random(burst.targets) < burst.answered_share
    ring_duration = np.where(picked, rng.integers(1_000, 3_000, burst.targets), 0).astype(np.int64)
    n = burst.targets
    burst_calls = Calls(
        caller=ringer,
        called=subs.msisdn[victims],
        start_ms=rings,
        duration_ms=ring_duration,
        answered=picked,
        direction=np.full(n, Direction.INCOMING, np.int8),
        subscriber=subs.imsi[victims],
        route=np.zeros(n, np.int32),
        routes=(Route.IN_INTERNATIONAL,),
        cost=np.zeros(n, np.int64),
        scenario=WANGIRI,
        instance=instance,
    )

    back = np.flatnonzero(rng.random(n) < burst.callback_share)
    m = back.shape[0]
    delay = (30_000 + rng.exponential(20 * MINUTE_MS, m)).astype(np.int64)
    callback_duration = durations_ms(rng, np.full(m, 45.0), 0.7, 5.0)
    callbacks = Calls(
        caller=subs.msisdn[victims[back]],
        called=ringer[back],
        start_ms=rings[back] + delay,
        duration_ms=callback_duration,
        answered=np.ones(m, np.bool_),
        direction=np.full(m, Direction.OUTGOING, np.int8),
        subscriber=subs.imsi[victims[back]],
        route=np.zeros(m, np.int32),
        routes=(Route.INTERNATIONAL[0],),
        cost=cost_of(callback_duration, rate_per_min("premium")),
        scenario=CALLBACK,
        instance=instance,
    )
    return [burst_calls, callbacks], Instance(
        scenario=WANGIRI,
        id=instance,
        numbers=tuple(int(s) for s in sources.tolist()),
        subscribers=tuple(str(i) for i in subs.imsi[victims].tolist()),
        hotlisted=tuple(int(s) for s in sources[: burst.hotlisted].tolist()),
        facts={"range": block.pattern, "callbacks": m, "callers_back": [str(i) for i in subs.imsi[victims[back]]]},
    )
