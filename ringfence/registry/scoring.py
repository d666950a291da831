"""Listing scores: how much a listing should still be trusted, computed at query time.

``score = base x (1 - (t / lifetime) ** (1 / speed))``, floored at 0, where ``t`` is the time since the listing's
last report (a new report resets it) and ``lifetime``, ``speed`` and ``threshold`` belong to the listing's category:
MISP's polynomial decay model. A listing counts as listed while its score is at or above the threshold (or the
``min_score`` a query asks for); below it the listing has *decayed*: lookups say not listed (unless a query asks to
include decayed listings) and the expiry sweep (:mod:`ringfence.registry.sweep`) retires it.

The base score is ``points x corroboration x disputed x ported``:

* ``points``: what a report of the listing's category is worth (100 for the categories where a wrong block costs
  least and a miss costs most, less where numbers are often someone else's, e.g. spoofed caller IDs);
* ``corroboration = min(1, 0.4 + 0.3 x w)`` where ``w`` is the listing's weight: its distinct reporters'
  reputations summed (1.0 per reporter of standing, see :mod:`ringfence.registry.reputation`). One reporter of
  standing gives 0.7, two give 1.0; a reporter whose reports were overturned counts for less;
* ``disputed``: 0.5 while a dispute is open; ``ported``: 0.5 when the number was ported after its last report.

A listing of several categories follows the category worth the most points (ties: the longer lifetime). A pinned
listing keeps its base score: decay cannot undo an admin's pin.

Default models (lifetime, speed, threshold, points) and why:

============== ========= ===== ========= ====== ==============================================================
category       lifetime  speed threshold points why
============== ========= ===== ========= ====== ==============================================================
vishing        10 days   2.3   30        100    MISP's vishing model as published
smishing       10 days   2.3   30        100    the same campaigns as vishing, by text
robocall       7 days    2.3   30        80     robocallers rotate caller IDs within days, many spoofed
phishing       30 days   1.5   30        90     callback numbers in phishing mails live for weeks
account_tak.   90 days   1.0   30        100    mule and takeover numbers are reused for months
irsf           180 days  0.5   20        100    premium-rate ranges stay in use for months: slow at first
wangiri        30 days   1.0   30        90     one-ring ranges are recycled over weeks
spoofing       3 days    3.0   40        70     the number belongs to a victim: fade fast, need more to block
other          30 days   1.0   30        60     unknown use: a middle course, worth less
============== ========= ===== ========= ====== ==============================================================

``speed`` above 1 makes the score fall fast at first and slowly later (an old report adds little doubt after the
first days); below 1, the reverse. Every model can be changed by the setting ``RINGFENCE_DECAY_MODELS``
(``vishing=10d:2.3:30:100,irsf=180d:0.5:20``) and, per query, overridden for all categories.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ringfence.errors import InvalidInput
from ringfence.registry.index import Listing
from ringfence.registry.models import CATEGORY_BITS, FLAG_DISPUTED, FLAG_PINNED, FLAG_PORTED, Category

__all__ = [
    "DEFAULT_POLICIES",
    "DecayModel",
    "Policy",
    "Scorer",
    "parse_models",
    "round_score",
]

DAY_MS = 86_400_000
DISPUTED_FACTOR = 0.5
PORTED_FACTOR = 0.5


@dataclass(frozen=True, slots=True)
class DecayModel:
    lifetime_ms: int
    speed: float
    threshold: float

    def __post_init__(self) -> None:
        if self.lifetime_ms <= 0 or not math.isfinite(self.speed) or self.speed <= 0:
            raise InvalidInput(
                f"a decay model needs a positive lifetime and speed, not {self.lifetime_ms} ms and {self.speed}",
                code="invalid_decay_model",
                details={"lifetime_ms": self.lifetime_ms, "speed": self.speed},
            )
        if not (math.isfinite(self.threshold) and 0 <= self.threshold <= 100):
            raise InvalidInput(
                f"a decay threshold is between 0 and 100, not {self.threshold}",
                code="invalid_decay_model",
                details={"threshold": self.threshold},
            )

    def factor(self, age_ms: int) -> float:
        """``1 - (t / lifetime) ** (1 / speed)``, floored at 0."""
        if age_ms <= 0:
            return 1.0
        if age_ms >= self.lifetime_ms:
            return 0.0
        return 1.0 - float((age_ms / self.lifetime_ms) ** (1.0 / self.speed))

    def to_dict(self) -> dict[str, Any]:
        return {"lifetime_days": self.lifetime_ms / DAY_MS, "speed": self.speed, "threshold": self.threshold}


@dataclass(frozen=True, slots=True)
class Policy:
    points: float
    model: DecayModel


def _policy(days: float, speed: float, threshold: float, points: float) -> Policy:
    return Policy(points, DecayModel(round(days * DAY_MS), speed, threshold))


DEFAULT_POLICIES: dict[Category, Policy] = {
    Category.VISHING: _policy(10, 2.3, 30, 100),
    Category.SMISHING: _policy(10, 2.3, 30, 100),
    Category.ROBOCALL: _policy(7, 2.3, 30, 80),
    Category.PHISHING: _policy(30, 1.5, 30, 90),
    Category.ACCOUNT_TAKEOVER: _policy(90, 1.0, 30, 100),
    Category.IRSF: _policy(180, 0.5, 20, 100),
    Category.WANGIRI: _policy(30, 1.0, 30, 90),
    Category.SPOOFING: _policy(3, 3.0, 40, 70),
    Category.OTHER: _policy(30, 1.0, 30, 60),
}

_MODEL = re.compile(
    r"^(?P<days>\d+(?:\.\d+)?)d:(?P<speed>\d+(?:\.\d+)?):(?P<threshold>\d+(?:\.\d+)?)(?::(?P<points>\d+(?:\.\d+)?))?$"
)


def parse_models(text: str) -> dict[Category, Policy]:
    """The default policies changed by ``category=LIFETIMEd:SPEED:THRESHOLD[:POINTS]`` items, comma-separated."""
    policies = dict(DEFAULT_POLICIES)
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, spec = item.partition("=")
        try:
            category = Category(name.strip().lower())
        except ValueError:
            raise InvalidInput(
                f"decay model {item!r}: unknown category {name.strip()!r}",
                code="invalid_decay_model",
                details={"input": item, "allowed": [c.value for c in Category]},
            ) from None
        match = _MODEL.match(spec.strip())
        if match is None:
            raise InvalidInput(
                f"decay model {item!r}: expected category=LIFETIMEd:SPEED:THRESHOLD[:POINTS], e.g. vishing=10d:2.3:30",
                code="invalid_decay_model",
                details={"input": item},
            )
        old = policies[category]
        points = float(match["points"]) if match["points"] else old.points
        policies[category] = _policy(float(match["days"]), float(match["speed"]), float(match["threshold"]), points)
    return policies


def round_score(score: float) -> float:
    """Scores are shown to one decimal; the same arithmetic as the batch path (``floor(10 s + 0.5) / 10``)."""
    return math.floor(score * 10 + 0.5) / 10


def corroboration(weight: int) -> float:
    return min(1.0, 0.4 + 0.3 * weight / 1000)


class Scorer:
    """Scores of listings under a set of category policies; tables are indexed by a listing's category bits."""

    def __init__(self, policies: Mapping[Category, Policy] | None = None) -> None:
        self.policies = dict(policies or DEFAULT_POLICIES)
        size = 1 << len(CATEGORY_BITS)
        self._lead: list[Category] = [Category.OTHER] * size
        for mask in range(1, size):
            present = [c for c, bit in CATEGORY_BITS.items() if mask & bit]
            self._lead[mask] = max(present, key=lambda c: (self.policies[c].points, self.policies[c].model.lifetime_ms))
        lead = [self.policies[c] for c in self._lead]
        self.points = np.array([p.points for p in lead], dtype=np.float64)
        self.lifetime = np.array([p.model.lifetime_ms for p in lead], dtype=np.float64)
        self.inverse_speed = np.array([1.0 / p.model.speed for p in lead], dtype=np.float64)
        self.threshold = np.array([p.model.threshold for p in lead], dtype=np.float64)
        self._mask_limit = size - 1
        # the same per category bits as Python lists, for the one-listing path (no numpy scalars there)
        self._points = self.points.tolist()
        self._lifetime = [p.model.lifetime_ms for p in lead]
        self._inverse = self.inverse_speed.tolist()
        self._threshold = self.threshold.tolist()

    def lead(self, categories: int) -> Category:
        """The category whose policy a listing of these category bits follows."""
        return self._lead[categories & self._mask_limit]

    def model(self, categories: int, override: DecayModel | None = None) -> DecayModel:
        return override or self.policies[self.lead(categories)].model

    def base(self, listing: Listing) -> float:
        base = self.policies[self.lead(listing.categories)].points * corroboration(listing.weight)
        if listing.flags & FLAG_DISPUTED:
            base *= DISPUTED_FACTOR
        if listing.flags & FLAG_PORTED:
            base *= PORTED_FACTOR
        return base

    def score(self, listing: Listing, now_ms: int, override: DecayModel | None = None) -> float:
        """The listing's score now (not rounded)."""
        return self.score_threshold(listing, now_ms, override)[0]

    def score_threshold(self, listing: Listing, now_ms: int, override: DecayModel | None = None) -> tuple[float, float]:
        """The listing's score now (not rounded) and its threshold: :meth:`base` and :meth:`DecayModel.factor`
        inlined over per-category lists, for the single-lookup path (the same arithmetic as :meth:`score_many`)."""
        lead = listing.categories & self._mask_limit
        weight, flags = listing.weight, listing.flags
        base = self._points[lead] * min(1.0, 0.4 + 0.3 * weight / 1000)
        if flags & FLAG_DISPUTED:
            base *= DISPUTED_FACTOR
        if flags & FLAG_PORTED:
            base *= PORTED_FACTOR
        if override is None:
            lifetime, inverse, threshold = self._lifetime[lead], self._inverse[lead], self._threshold[lead]
        else:
            lifetime, inverse, threshold = override.lifetime_ms, 1.0 / override.speed, override.threshold
        if flags & FLAG_PINNED:
            return base, threshold
        age = now_ms - listing.last_ms
        if age <= 0:
            return base, threshold
        if age >= lifetime:
            return 0.0, threshold
        return base * (1.0 - float((age / lifetime) ** inverse)), threshold

    def explain(self, listing: Listing, now_ms: int, override: DecayModel | None = None) -> dict[str, Any]:
        """How the score came about, term by term (``explain=1`` on a lookup)."""
        lead = self.lead(listing.categories)
        model = self.model(listing.categories, override)
        age = max(0, now_ms - listing.last_ms)
        pinned = bool(listing.flags & FLAG_PINNED)
        return {
            "category": lead.value,
            "points": self.policies[lead].points,
            "reporters_weight": listing.weight / 1000,
            "corroboration": round(corroboration(listing.weight), 4),
            "disputed_factor": DISPUTED_FACTOR if listing.flags & FLAG_DISPUTED else 1.0,
            "ported_factor": PORTED_FACTOR if listing.flags & FLAG_PORTED else 1.0,
            "base": round(self.base(listing), 4),
            "age_days": round(age / DAY_MS, 4),
            "model": {**model.to_dict(), "overridden": override is not None},
            "decay_factor": 1.0 if pinned else round(model.factor(age), 4),
            "pinned": pinned,
            "score": round_score(self.score(listing, now_ms, override)),
        }

    def decayed_many(
        self,
        categories: npt.NDArray[np.integer[Any]],
        last_ms: npt.NDArray[np.integer[Any]],
        weight: npt.NDArray[np.integer[Any]],
        flags: npt.NDArray[np.integer[Any]],
        now_ms: int,
    ) -> npt.NDArray[np.bool_]:
        """Which listings have decayed: their score, rounded as answers show it, below their threshold, and not
        pinned (what lookups call decayed, and what the sweep retires)."""
        score, threshold = self.score_many(categories, last_ms, weight, flags, now_ms)
        rounded = np.floor(score * 10 + 0.5) / 10
        result: npt.NDArray[np.bool_] = (rounded < threshold) & ((flags.astype(np.int64) & FLAG_PINNED) == 0)
        return result

    def score_many(
        self,
        categories: npt.NDArray[np.integer[Any]],
        last_ms: npt.NDArray[np.integer[Any]],
        weight: npt.NDArray[np.integer[Any]],
        flags: npt.NDArray[np.integer[Any]],
        now_ms: int,
        override: DecayModel | None = None,
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Scores (not rounded) and thresholds of many listings, the same arithmetic as :meth:`score`."""
        lead = categories.astype(np.intp) & self._mask_limit
        base = self.points[lead] * np.minimum(1.0, 0.4 + 0.3 * weight.astype(np.float64) / 1000)
        flags = flags.astype(np.int64)
        base = np.where(flags & FLAG_DISPUTED, base * DISPUTED_FACTOR, base)
        base = np.where(flags & FLAG_PORTED, base * PORTED_FACTOR, base)
        if override is None:
            lifetime, inverse, threshold = self.lifetime[lead], self.inverse_speed[lead], self.threshold[lead]
        else:
            size = len(lead)
            lifetime = np.full(size, float(override.lifetime_ms))
            inverse = np.full(size, 1.0 / override.speed)
            threshold = np.full(size, override.threshold)
        age = (now_ms - last_ms).astype(np.float64)
        ratio = np.clip(age / lifetime, 0.0, 1.0)
        factor = np.where(age <= 0, 1.0, 1.0 - np.power(ratio, inverse))
        score = np.where(flags & FLAG_PINNED, base, base * factor)
        return score, threshold
