"""The seed's case: an IRSF attack of 18,000 calls to 745 distinct numbers, 260 of them on the hotlist.

The case the issue states as a test: pumped over six hours from twenty compromised subscribers into three rented
ranges (Latvian and Lithuanian premium rate, +882 satellite), mixed into a day of ordinary traffic whose numbers
are never on the hotlist. The hotlist lists the test number and 259 of the pumped numbers, exactly, plus decoys
that cover none of the other 485: a hotlist-hit rule must alert on the 260 and stay silent on the rest.
"""

from __future__ import annotations

from typing import Final

from .irsf import IrsfAttack
from .mix import Mix, Traffic, simulate
from .timing import DEFAULT_START_MS

__all__ = ["SEED_CALLS", "SEED_HOTLISTED", "SEED_NUMBERS", "seed_case", "seed_mix"]

SEED_CALLS: Final = 18_000
SEED_NUMBERS: Final = 745
SEED_HOTLISTED: Final = 260
_TEST_CALLS: Final = 3


def seed_mix(seed: int = 1, *, subscribers: int = 2_000, home: str = "GB", start_ms: int = DEFAULT_START_MS) -> Mix:
    """The :class:`Mix` of the seed's case (one day, the attack starting at 01:00)."""
    attack = IrsfAttack(
        countries=("LV", "LT", "882"),
        ranges=3,
        range_digits=3,
        sims=20,
        test_calls=_TEST_CALLS,
        numbers=SEED_NUMBERS - 1,  # the test number is the 745th
        calls=SEED_CALLS - _TEST_CALLS,
        minutes=360.0,
        gap_minutes=25.0,
        at_h=1.0,
        hotlisted=SEED_HOTLISTED - 1,  # and the test number
    )
    return Mix(seed=seed, home=home, subscribers=subscribers, start_ms=start_ms, irsf=(attack,), wangiri=(), simbox=())


def seed_case(
    seed: int = 1, *, subscribers: int = 2_000, home: str = "GB", start_ms: int = DEFAULT_START_MS
) -> Traffic:
    """Simulate the seed's case: the attack is instance ``irsf-1``."""
    return simulate(seed_mix(seed, subscribers=subscribers, home=home, start_ms=start_ms))
