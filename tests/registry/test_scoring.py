"""Scores: the one-listing and the batch arithmetic agree, the model is MISP's polynomial, settings parse strictly."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringfence.errors import InvalidInput
from ringfence.registry.index import Listing
from ringfence.registry.models import Category
from ringfence.registry.scoring import DAY_MS, DEFAULT_POLICIES, DecayModel, Scorer, parse_models, round_score

NOW = 1_790_000_000_000
LISTINGS = st.builds(
    Listing,
    number=st.just(447700900000),
    first_ms=st.just(0),
    last_ms=st.integers(NOW - 400 * DAY_MS, NOW + DAY_MS),
    report_count=st.integers(1, 50),
    reporter_count=st.integers(1, 20),
    categories=st.integers(1, 511),
    weight=st.integers(0, 40_000),
    flags=st.integers(0, 7),
)
MODELS = st.one_of(
    st.none(), st.builds(DecayModel, st.integers(60_000, 400 * DAY_MS), st.floats(0.1, 10), st.floats(0, 100))
)


@given(st.lists(LISTINGS, min_size=1, max_size=30), MODELS)
def test_one_listing_and_batch_scores_are_the_same_numbers(listings: list[Listing], model: DecayModel | None) -> None:
    scorer = Scorer()
    columns = np.array(listings, dtype=np.int64)
    scores, thresholds = scorer.score_many(columns[:, 5], columns[:, 2], columns[:, 6], columns[:, 7], NOW, model)
    for listing, score, threshold in zip(listings, scores.tolist(), thresholds.tolist(), strict=True):
        assert round_score(scorer.score(listing, NOW, model)) == round_score(score)
        assert scorer.score_threshold(listing, NOW, model)[1] == threshold
        assert 0 <= score <= 100


def test_the_vishing_model_is_misps() -> None:
    vishing = DEFAULT_POLICIES[Category.VISHING].model
    assert (vishing.lifetime_ms, vishing.speed, vishing.threshold) == (10 * DAY_MS, 2.3, 30)
    assert vishing.factor(0) == 1.0 and vishing.factor(10 * DAY_MS) == 0.0 and vishing.factor(20 * DAY_MS) == 0.0
    assert vishing.factor(DAY_MS) == pytest.approx(1 - 0.1 ** (1 / 2.3))


def test_a_new_report_resets_the_clock_and_a_pin_stops_it() -> None:
    scorer = Scorer()
    vishing = int(1 << list(Category).index(Category.VISHING))
    old = Listing(447700900000, 0, NOW - 5 * DAY_MS, 1, 1, vishing, 1000, 0)
    assert scorer.score(old, NOW) < 30 < scorer.score(old._replace(last_ms=NOW), NOW) == 70.0
    assert scorer.score(old._replace(flags=1), NOW) == 70.0  # pinned: the base score


def test_decay_models_parse_from_settings_and_bad_ones_are_refused() -> None:
    policies = parse_models("vishing=14d:2:25:90, irsf=365d:0.5:20")
    assert policies[Category.VISHING].model == DecayModel(14 * DAY_MS, 2.0, 25.0)
    assert policies[Category.VISHING].points == 90 and policies[Category.IRSF].points == 100
    for bad in ("vish=10d:2:30", "vishing=10:2:30", "vishing=10d:0:30", "vishing=10d:2:130", "vishing"):
        with pytest.raises(InvalidInput) as refused:
            parse_models(bad)
        assert refused.value.code == "invalid_decay_model"
