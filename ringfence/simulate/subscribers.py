"""The simulated operator's subscribers, and the tariff plan and trunks their calls go over.

A subscriber is an IMSI (mobile country code of the home country, network code 15, ten digits of its own) and a
mobile number of the home country. Scenarios that need subscribers of their own (the SIMs an IRSF attack has
compromised, a SIM box, travellers) :meth:`~Subscribers.take` them, so no subscriber plays two parts in one run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt

from ringfence.errors import InvalidInput

from .numbering import Kind, draw_numbers

__all__ = ["MCC", "Route", "Subscribers", "imsis", "rate_per_min"]

I64 = npt.NDArray[np.int64]

#: Mobile country codes of the countries the simulator knows; others get 001, the test network's.
MCC: Final = {
    "GB": 234, "IE": 272, "DE": 262, "FR": 208, "ES": 214, "IT": 222, "NL": 204, "BE": 206, "PT": 268, "PL": 260,
    "SE": 240, "NO": 242, "DK": 238, "FI": 244, "AT": 232, "CH": 228, "US": 310, "CA": 302, "AU": 505, "IN": 404,
    "TR": 286, "RO": 226, "GR": 202, "CZ": 230, "HU": 216, "ZA": 655, "BR": 724, "MX": 334, "JP": 440,
}  # fmt: skip
_MNC: Final = 15


class Route:
    """Trunk names: domestic interconnects, international carriers (the attacks' favourite is the cheap one),
    the incoming gateways, and roaming partners (``ROAM-`` and the country)."""

    DOMESTIC: Final = ("NAT-1", "NAT-2", "NAT-3")
    INTERNATIONAL: Final = ("INTL-A", "INTL-B")
    WHOLESALE: Final = "INTL-C"
    IN_DOMESTIC: Final = "IN-NAT"
    IN_INTERNATIONAL: Final = "IN-INTL"

    @staticmethod
    def roaming(country: str) -> str:
        return f"ROAM-{country}"


#: Charges per minute in currency units, by what the call reaches.
_RATES: Final = {
    "domestic": 0.02,
    "international": 0.12,
    "roaming": 0.35,
    "premium": 1.8,
    "satellite": 7.5,
}


def rate_per_min(kind: str) -> float:
    return _RATES[kind]


def imsis(rng: np.random.Generator, country: str, count: int) -> I64:
    """``count`` distinct IMSIs of ``country``'s mobile country code (15 digits)."""
    base = (MCC.get(country, 1) * 100 + _MNC) * 10**10
    result: I64 = base + _distinct(rng, count)
    return result


def _distinct(rng: np.random.Generator, count: int) -> I64:
    drawn = np.unique(rng.integers(0, 10**10, count + count // 8 + 16, dtype=np.int64))
    while drawn.shape[0] < count:
        drawn = np.unique(np.concatenate([drawn, rng.integers(0, 10**10, count, dtype=np.int64)]))
    chosen: I64 = rng.permutation(drawn)[:count]
    return chosen


@dataclass
class Subscribers:
    """The home network's subscribers: ``imsi[i]`` has number ``msisdn[i]`` and makes calls in proportion to
    ``activity[i]`` (heavy users and light ones, gamma-distributed, mean 1)."""

    country: str
    imsi: I64
    msisdn: I64
    activity: npt.NDArray[np.float64]
    _free: list[int] = field(default_factory=list, repr=False)

    @classmethod
    def draw(cls, rng: np.random.Generator, country: str, count: int) -> Subscribers:
        if count < 1:
            raise InvalidInput("the simulation needs at least one subscriber", code="invalid_size")
        subscribers = cls(
            country=country,
            imsi=imsis(rng, country, count),
            msisdn=draw_numbers(rng, country, Kind.MOBILE, count),
            activity=rng.gamma(1.5, 1 / 1.5, count),
        )
        subscribers._free = rng.permutation(count).tolist()
        return subscribers

    def __len__(self) -> int:
        return int(self.imsi.shape[0])

    def take(self, count: int, what: str) -> npt.NDArray[np.intp]:
        """``count`` subscribers (indexes) that no other scenario of the run has taken."""
        if count > len(self._free):
            raise InvalidInput(
                f"not enough subscribers for {what}: {count} wanted, {len(self._free)} left; add subscribers",
                code="invalid_size",
                details={"wanted": count, "left": len(self._free)},
            )
        chosen, self._free = self._free[:count], self._free[count:]
        return np.array(chosen, dtype=np.intp)
