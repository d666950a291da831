"""An IRSF attack: test calls to one number of a rented range, then pumping to many numbers of the same ranges.

International Revenue Share Fraud runs in two phases, and both leave their mark in CDRs:

1. **Testing**: the fraudster checks that a route to the rented range completes, with a few (1 to 5) short calls
   (seconds) from one compromised SIM or PBX line to one number: the *test number*, which is what test-number
   hotlists publish.
2. **Pumping**, after a pause: many long calls (median 15 minutes) from several compromised subscribers to
   *different* numbers of the same ranges, as many at once as the lines allow, usually at night.

The ranges are blocks of premium-rate numbers in IRSF-prone countries (Latvia and Lithuania's premium ranges, Cuba,
small Pacific states, the satellite codes +881 and +882), routed over the cheap wholesale carrier. A hotlist never
knows the whole attack: the test number is on it, and a share of the pumped numbers (``hotlist_share``, or exactly
``hotlisted`` of them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from ringfence.cdrs.models import Direction
from ringfence.errors import InvalidInput

from .calls import Calls, Instance, cost_of, durations_ms
from .numbering import Block, Kind, draw_block
from .subscribers import Route, rate_per_min
from .timing import MINUTE_MS
from .world import World

__all__ = ["IRSF", "IRSF_COUNTRIES", "IrsfAttack", "irsf_calls", "irsf_kind", "irsf_rate"]

IRSF: Final = "irsf"
#: Countries with IRSF-prone ranges the simulator can rent blocks in (regions, or non-geographic codes).
IRSF_COUNTRIES: Final = ("LV", "LT", "CU", "882", "881", "TV", "NR", "SB", "TO", "VU")


def irsf_kind(country: str) -> Kind:
    """Latvia and Lithuania rent premium-rate ranges; elsewhere the ranges are mobile or satellite numbers."""
    return Kind.PREMIUM if country in ("LV", "LT") else Kind.MOBILE


def irsf_rate(country: str) -> float:
    return rate_per_min("satellite" if country.isdigit() else "premium")


@dataclass(frozen=True, slots=True)
class IrsfAttack:
    """One attack: ``ranges`` blocks of ``range_digits`` free digits in ``countries`` (taken in turn), ``sims``
    compromised subscribers, ``test_calls`` test calls to one number, a pause of ``gap_minutes``, then ``calls``
    pumping calls over ``minutes`` to ``numbers`` distinct other numbers of the blocks. ``at_h``: start, in hours
    into the period (default: a random night hour)."""

    countries: tuple[str, ...] = ("LV", "882")
    ranges: int = 2
    range_digits: int = 3
    sims: int = 4
    test_calls: int = 3
    numbers: int = 40
    calls: int = 300
    minutes: float = 90.0
    gap_minutes: float = 20.0
    at_h: float | None = None
    hotlist_share: float = 0.3
    hotlisted: int | None = None

    def __post_init__(self) -> None:
        if not (self.countries and self.ranges >= 1 and self.sims >= 1 and 1 <= self.test_calls <= 5):
            raise InvalidInput(
                "an IRSF attack needs countries, at least one range and one SIM, and 1 to 5 test calls",
                code="invalid_scenario",
            )
        if not 1 <= self.numbers <= self.calls:
            raise InvalidInput(
                f"an IRSF attack pumps at least one number and at least one call per number, not {self.calls} "
                f"calls to {self.numbers} numbers",
                code="invalid_scenario",
            )


def irsf_calls(world: World, attack: IrsfAttack, instance: str) -> tuple[Calls, Instance]:
    rng, subs = world.rng, world.subscribers
    blocks: list[Block] = []
    countries = [attack.countries[i % len(attack.countries)] for i in range(attack.ranges)]
    for country in countries:
        block = draw_block(rng, country, irsf_kind(country), attack.range_digits, avoid=tuple(world.blocks))
        blocks.append(block)
        world.blocks.append(block)
    test_number = int(rng.choice(blocks[0].members))
    pool = np.concatenate([b.members for b in blocks])
    pool = pool[pool != test_number]
    if attack.numbers > pool.shape[0]:
        raise InvalidInput(
            f"an IRSF attack of {attack.numbers} numbers needs more or wider ranges ({pool.shape[0]} numbers)",
            code="invalid_scenario",
        )
    pumped = rng.choice(pool, attack.numbers, replace=False)
    sims = subs.take(attack.sims, "an IRSF attack")

    gaps = rng.uniform(1, 5, attack.test_calls) * MINUTE_MS
    test_span = int(gaps.sum())
    pump_span = round(attack.minutes * MINUTE_MS)
    span = test_span + round(attack.gap_minutes * MINUTE_MS) + pump_span
    start = world.period.pick_start(rng, span, attack.at_h, night=True)
    test_starts = start + np.concatenate([[0], np.cumsum(gaps[:-1])]).astype(np.int64)
    pump_start = start + span - pump_span
    pump_starts = np.sort(world.period.uniform(rng, attack.calls, pump_start, pump_span))
    # every pumped number is called at least once, the rest at random
    called = np.concatenate([rng.permutation(pumped), rng.choice(pumped, attack.calls - attack.numbers)])
    pump_answered = rng.random(attack.calls) < 0.92

    n_test = attack.test_calls
    who = np.concatenate([np.full(n_test, sims[0]), rng.choice(sims, attack.calls)])
    called = np.concatenate([np.full(n_test, test_number), called]).astype(np.int64)
    answered = np.concatenate([np.ones(n_test, np.bool_), pump_answered])
    test_durations = rng.integers(2_000, 6_000, n_test)
    pump_durations = np.where(pump_answered, durations_ms(rng, np.full(attack.calls, 900.0), 0.6, 60.0), 0)
    duration = np.concatenate([test_durations, pump_durations]).astype(np.int64)
    rate = np.zeros(called.shape[0])
    for block, country in zip(blocks, countries, strict=True):
        rate[block.covers(called)] = irsf_rate(country)
    calls = Calls(
        caller=subs.msisdn[who],
        called=called,
        start_ms=np.concatenate([test_starts, pump_starts]),
        duration_ms=duration,
        answered=answered,
        direction=np.full(called.shape[0], Direction.OUTGOING, np.int8),
        subscriber=subs.imsi[who],
        route=np.zeros(called.shape[0], np.int32),
        routes=(Route.WHOLESALE,),
        cost=cost_of(duration, rate),
        scenario=IRSF,
        instance=instance,
    )
    on_list = attack.hotlisted if attack.hotlisted is not None else round(attack.hotlist_share * attack.numbers)
    hotlisted = (test_number, *rng.choice(pumped, min(on_list, attack.numbers), replace=False).tolist())
    return calls, Instance(
        scenario=IRSF,
        id=instance,
        numbers=(test_number, *pumped.tolist()),
        subscribers=tuple(str(i) for i in subs.imsi[sims].tolist()),
        hotlisted=tuple(int(n) for n in hotlisted),
        facts={"test_number": test_number, "ranges": [b.pattern for b in blocks], "test_calls": n_test},
    )
