"""Roaming, both ways: our subscribers calling from abroad (``roaming_out``) and visitors calling on our network
(``roaming_in``).

Legitimate traffic that looks unusual: many international numbers, foreign callers and IMSIs, dearer minutes. A
detector should leave it alone, which is why it is simulated (its alerts are false positives). Travellers call
home and numbers of the country they are in; visitors call local numbers and home. Both follow the daily rhythm.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from ringfence.cdrs.models import Direction

from .calls import Calls, Instance, cost_of, durations_ms
from .numbering import Kind, draw_numbers
from .subscribers import Route, imsis, rate_per_min
from .world import World

__all__ = ["ROAMING", "Roaming", "roaming_calls"]

ROAMING: Final = "roaming"


@dataclass(frozen=True, slots=True)
class Roaming:
    """``travellers`` (share of the subscribers) abroad in ``destinations``, ``visitors`` (share of the subscribers)
    from ``origins``, each making ``calls_per_day``."""

    travellers: float = 0.01
    visitors: float = 0.005
    destinations: tuple[str, ...] = ("ES", "FR", "US", "IT")
    origins: tuple[str, ...] = ("DE", "FR", "NL", "US")
    calls_per_day: float = 3.0


def _calls(
    world: World,
    count: int,
    who: npt.NDArray[np.intp],
    caller: npt.NDArray[np.int64],
    imsi: npt.NDArray[np.int64],
    country: str,
    local_share: float,
    direction: Direction,
    instance: str,
) -> Calls:
    rng = world.rng
    per_person = who[rng.integers(0, who.shape[0], count)]
    local = rng.random(count) < local_share
    there = world.contacts(per_person, world.foreign(country), 8, salt=3)
    here = world.contacts(per_person, world.domestic, 8, salt=4)
    near, far = (there, here) if direction is Direction.ROAMING_OUT else (here, there)
    answered = rng.random(count) < 0.8
    duration = np.where(answered, durations_ms(rng, np.full(count, 90.0), 1.0), 0).astype(np.int64)
    return Calls(
        caller=caller[per_person],
        called=np.where(local, near, far),
        start_ms=world.period.rhythm(rng, count),
        duration_ms=duration,
        answered=answered,
        direction=np.full(count, direction, np.int8),
        subscriber=imsi[per_person],
        route=np.zeros(count, np.int32),
        routes=(Route.roaming(country),),
        cost=cost_of(duration, rate_per_min("roaming")),
        scenario=ROAMING,
        instance=instance,
    )


def roaming_calls(world: World, roaming: Roaming) -> tuple[list[Calls], list[Instance]]:
    rng, subs = world.rng, world.subscribers
    days = world.period.hours / 24
    parts: list[Calls] = []
    instances: list[Instance] = []
    destinations = [c for c in roaming.destinations if c != world.home]
    travellers = round(len(subs) * roaming.travellers)
    if destinations and travellers:
        taken = subs.take(travellers, "roaming")
        for i, country in enumerate(destinations):
            group = taken[i :: len(destinations)]
            count = round(group.shape[0] * roaming.calls_per_day * days)
            if not count:
                continue
            instance = f"roaming-out-{country}"
            parts.append(
                _calls(world, count, group, subs.msisdn, subs.imsi, country, 0.6, Direction.ROAMING_OUT, instance)
            )
            names = tuple(str(x) for x in subs.imsi[group].tolist())
            instances.append(Instance(ROAMING, instance, (), names, facts={"country": country}))
    origins = [c for c in roaming.origins if c != world.home]
    visitors = round(len(subs) * roaming.visitors)
    for i, country in enumerate(origins):
        size = len(range(i, visitors, len(origins)))
        count = round(size * roaming.calls_per_day * days)
        if not count:
            continue
        own = draw_numbers(rng, country, Kind.MOBILE, size)
        ids = imsis(rng, country, size)
        group = np.arange(size, dtype=np.intp)
        instance = f"roaming-in-{country}"
        parts.append(_calls(world, count, group, own, ids, country, 0.6, Direction.ROAMING_IN, instance))
        instances.append(
            Instance(ROAMING, instance, (), tuple(str(x) for x in ids.tolist()), facts={"country": country})
        )
    return parts, instances
