"""What every scenario of one run shares: the random generator, the period, the home country, its subscribers, and
the numbers people call.

Ordinary calls go to a pool of home numbers (mobiles, fixed lines, and the subscribers' own numbers) and to pools of
foreign numbers drawn per country once; a subscriber calls a few favourite contacts most (:meth:`World.contacts`),
as real call graphs do, rather than a random number every time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt

from .numbering import Block, Kind, draw_numbers
from .subscribers import Subscribers
from .timing import Period

__all__ = ["World"]

I64 = npt.NDArray[np.int64]

_POOL_MIN: Final = 5_000
_POOL_MAX: Final = 200_000
_FOREIGN_POOL: Final = 2_000
_MIX: Final = np.uint64(0x9E3779B97F4A7C15)


@dataclass
class World:
    rng: np.random.Generator
    period: Period
    home: str
    subscribers: Subscribers
    domestic: I64
    blocks: list[Block] = field(default_factory=list)  # ranges attacks of this run use: no two overlap
    _foreign: dict[tuple[str, Kind], I64] = field(default_factory=dict, repr=False)

    @classmethod
    def create(cls, rng: np.random.Generator, period: Period, home: str, subscribers: int) -> World:
        base = Subscribers.draw(rng, home, subscribers)
        size = min(max(_POOL_MIN, 2 * subscribers), _POOL_MAX)
        mobiles = draw_numbers(rng, home, Kind.MOBILE, size)
        fixed = draw_numbers(rng, home, Kind.FIXED, size // 2)
        pool = np.unique(np.concatenate([mobiles[~np.isin(mobiles, base.msisdn)], fixed, base.msisdn]))
        return cls(rng, period, home, base, rng.permutation(pool))

    def foreign(self, country: str, kind: Kind = Kind.MOBILE) -> I64:
        """A pool of numbers of ``country`` (drawn once per run)."""
        key = (country, kind)
        if key not in self._foreign:
            self._foreign[key] = draw_numbers(self.rng, country, kind, _FOREIGN_POOL)
        return self._foreign[key]

    def contacts(self, who: npt.NDArray[np.intp], pool: I64, favourites: int, salt: int) -> I64:
        """For each caller in ``who``, one of its ``favourites`` contacts in ``pool``: the first called most often
        (geometric), each caller's contacts fixed by a hash of (caller, slot, salt)."""
        slot = np.minimum(self.rng.geometric(0.2, who.shape[0]) - 1, favourites - 1).astype(np.uint64)
        key = (who.astype(np.uint64) * np.uint64(1_000_003) + slot * np.uint64(7919) + np.uint64(salt)) * _MIX
        index = ((key >> np.uint64(17)) % np.uint64(pool.shape[0])).astype(np.intp)
        chosen: I64 = pool[index]
        return chosen

    def any_of(self, pool: I64, count: int) -> I64:
        chosen: I64 = pool[self.rng.integers(0, pool.shape[0], count)]
        return chosen
