"""What a lookup makes of a listing: its score now, whether it still counts as listed, and why.

A listing in the index is not necessarily *listed* for a member asking now: its score may have decayed below its
threshold (the sweep has not retired it yet), or the member may ask for a higher ``min_score``. :func:`assess` and
:func:`assess_many` (the batch path, in numpy) decide it the same way; the views render the result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from ringfence.errors import InvalidInput
from ringfence.registry.index import Listing, LookupResult
from ringfence.registry.models import FLAG_PINNED
from ringfence.registry.scoring import DAY_MS, DecayModel, Scorer, round_score

__all__ = ["Assessment", "BatchAssessment", "LookupOptions", "assess", "assess_many"]


@dataclass(frozen=True, slots=True)
class LookupOptions:
    """What a query may ask: a minimum score, decayed listings too, another decay model, the score explained."""

    min_score: float | None = None
    include_decayed: bool = False
    model: DecayModel | None = None
    explain: bool = False

    @classmethod
    def parse(
        cls,
        *,
        min_score: float | None = None,
        include_decayed: bool = False,
        lifetime_days: float | None = None,
        speed: float | None = None,
        threshold: float | None = None,
        explain: bool = False,
    ) -> LookupOptions:
        """From query parameters: a model override needs lifetime_days and speed (threshold defaults to 30)."""
        if min_score is not None and not (math.isfinite(min_score) and 0 <= min_score <= 100):
            raise InvalidInput(
                f"min_score is between 0 and 100, not {min_score}",
                code="invalid_parameter",
                details={"min_score": min_score},
            )
        model = None
        if lifetime_days is not None or speed is not None or threshold is not None:
            if lifetime_days is None or speed is None:
                raise InvalidInput(
                    "a decay model override needs both lifetime_days and speed (threshold is optional)",
                    code="invalid_decay_model",
                    details={"lifetime_days": lifetime_days, "speed": speed},
                )
            if not (math.isfinite(lifetime_days) and 0 < lifetime_days <= 36_500):
                raise InvalidInput(
                    f"lifetime_days is a number of days above 0 (at most 36500), not {lifetime_days}",
                    code="invalid_decay_model",
                    details={"lifetime_days": lifetime_days},
                )
            model = DecayModel(round(lifetime_days * DAY_MS), speed, 30.0 if threshold is None else threshold)
        return cls(min_score, include_decayed, model, explain)


DEFAULT_OPTIONS = LookupOptions()


class Assessment(NamedTuple):
    """One listing as a lookup sees it now (a tuple: one is made per lookup, on the hot path)."""

    listing: Listing
    score: float  # rounded to one decimal
    threshold: float
    decayed: bool  # below its threshold and not pinned
    listed: bool  # not decayed, and at or above the query's min_score
    explain: dict[str, Any] | None = None


def assess(scorer: Scorer, listing: Listing | None, now_ms: int, options: LookupOptions) -> Assessment | None:
    """The assessment of one listing (None: the number is not in the registry at all)."""
    if listing is None:
        return None
    raw, threshold = scorer.score_threshold(listing, now_ms, options.model)
    score = round_score(raw)
    decayed = not listing.flags & FLAG_PINNED and score < threshold
    listed = not decayed and (options.min_score is None or score >= options.min_score)
    explain = scorer.explain(listing, now_ms, options.model) if options.explain else None
    return Assessment(listing, score, threshold, decayed, listed, explain)


@dataclass(frozen=True, slots=True)
class BatchAssessment:
    """:func:`assess` for a whole batch: arrays in input order (meaningless where the number was not found)."""

    score_tenths: npt.NDArray[np.int64]  # the rounded score x 10
    threshold: npt.NDArray[np.float64]
    decayed: npt.NDArray[np.bool_]
    listed: npt.NDArray[np.bool_]
    shown: npt.NDArray[np.bool_]  # the answer carries the listing: listed, or found and decayed ones asked for


def assess_many(scorer: Scorer, found: LookupResult, now_ms: int, options: LookupOptions) -> BatchAssessment:
    """:func:`assess` for a batch; scores are computed for the numbers found only (often half a batch or less)."""
    size = len(found.found)
    hit = np.flatnonzero(found.found)
    tenths = np.zeros(size, np.int64)
    threshold = np.zeros(size, np.float64)
    decayed = np.zeros(size, np.bool_)
    if hit.size:
        flags = found.flags[hit]
        score, limit = scorer.score_many(
            found.categories[hit], found.last_ms[hit], found.weight[hit], flags, now_ms, options.model
        )
        rounded_tenths = np.floor(score * 10 + 0.5)
        tenths[hit] = rounded_tenths
        threshold[hit] = limit
        decayed[hit] = ((flags & FLAG_PINNED) == 0) & (rounded_tenths / 10 < limit)
    listed = found.found & ~decayed
    if options.min_score is not None:
        listed &= tenths / 10 >= options.min_score
    shown = (found.found & options.include_decayed) | listed
    return BatchAssessment(tenths, threshold, decayed, listed, shown)
