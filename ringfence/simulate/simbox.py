"""A SIM box: a few SIMs in one gateway terminating bypassed international traffic as local calls.

The SIMs are ordinary prepaid subscribers of ours, but they behave like no person: calls round the clock at a steady
rate (no daily rhythm), every call to a different domestic number, over the one trunk the gateway sits behind, and a
high share of very short or failed calls (``short_share`` under 6 s: the gateway retries and drops), which is what
the short-duration-ratio rule looks for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from ringfence.cdrs.models import Direction
from ringfence.errors import InvalidInput

from .calls import Calls, Instance, cost_of, durations_ms
from .subscribers import Route, rate_per_min
from .timing import HOUR_MS
from .world import World

__all__ = ["SHORT_MS", "SIMBOX", "SimBox", "simbox_calls"]

SIMBOX: Final = "simbox"
#: What a short call is (the short-duration-ratio rule's default).
SHORT_MS: Final = 6_000


@dataclass(frozen=True, slots=True)
class SimBox:
    """``sims`` SIMs making ``calls_per_hour`` calls each, ``short_share`` of them under 6 s, from ``at_h`` hours
    into the period for ``hours`` (default: the whole period)."""

    sims: int = 2
    calls_per_hour: float = 40.0
    short_share: float = 0.6
    at_h: float | None = None
    hours: float | None = None

    def __post_init__(self) -> None:
        if not (self.sims >= 1 and self.calls_per_hour > 0 and 0 <= self.short_share <= 1):
            raise InvalidInput(
                "a SIM box needs at least one SIM, a positive call rate and a short share from 0 to 1",
                code="invalid_scenario",
            )


def simbox_calls(world: World, box: SimBox, instance: str) -> tuple[Calls, Instance]:
    rng, subs, period = world.rng, world.subscribers, world.period
    start = period.start_ms + round((box.at_h or 0.0) * HOUR_MS)
    span = round(box.hours * HOUR_MS) if box.hours is not None else period.end_ms - start
    count = round(box.sims * box.calls_per_hour * span / HOUR_MS)
    sims = subs.take(box.sims, "a SIM box")
    who = rng.choice(sims, count)
    short = rng.random(count) < box.short_share
    failed = short & (rng.random(count) < 0.5)
    duration = np.where(
        short,
        np.where(failed, 0, rng.integers(1_000, SHORT_MS, count)),
        durations_ms(rng, np.full(count, 100.0), 0.8, SHORT_MS / 1000),
    ).astype(np.int64)
    calls = Calls(
        caller=subs.msisdn[who],
        called=world.any_of(world.domestic, count),
        start_ms=np.sort(period.uniform(rng, count, start, span)),
        duration_ms=duration,
        answered=~failed,
        direction=np.full(count, Direction.OUTGOING, np.int8),
        subscriber=subs.imsi[who],
        route=np.zeros(count, np.int32),
        routes=(Route.DOMESTIC[1],),
        cost=cost_of(duration, rate_per_min("domestic")),
        scenario=SIMBOX,
        instance=instance,
    )
    return calls, Instance(
        scenario=SIMBOX,
        id=instance,
        numbers=(),
        subscribers=tuple(str(i) for i in subs.imsi[sims].tolist()),
        facts={"route": Route.DOMESTIC[1], "short_share": box.short_share},
    )
