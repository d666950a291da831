"""The seed's case: an IRSF attack of 18,000 calls to 745 distinct numbers, 260 of them on the hotlist, in ordinary
traffic whose numbers the hotlist never covers."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from ringfence.hotlists.matcher import RangeMatcher
from ringfence.hotlists.patterns import parse_pattern
from ringfence.rules.batch import evaluate
from ringfence.rules.config import RuleSet
from ringfence.rules.hotlist import MatcherLookup
from ringfence.rules.models import Alert
from ringfence.rules.stream import StreamEngine
from ringfence.simulate import SEED_CALLS, SEED_HOTLISTED, SEED_NUMBERS, Traffic, seed_case


def _attack(seeded: Traffic) -> pl.DataFrame:
    joined = pl.concat([seeded.cdrs, seeded.labels.select("scenario", "instance")], how="horizontal")
    return joined.filter(pl.col("instance") == "irsf-1")


def _covered(seeded: Traffic, numbers: np.ndarray) -> np.ndarray:
    matcher = RangeMatcher.from_patterns([parse_pattern(e) for e in seeded.hotlist], range(len(seeded.hotlist)))
    covered: np.ndarray = matcher.longest_many(numbers) >= 0
    return covered


def test_the_attack_has_18000_calls_to_745_numbers(seeded: Traffic) -> None:
    attack = _attack(seeded)
    assert (SEED_CALLS, SEED_NUMBERS, SEED_HOTLISTED) == (18_000, 745, 260)
    assert attack.height == 18_000
    assert attack["called"].n_unique() == 745
    assert seeded.labels.filter(pl.col("scenario") == "irsf").height == 18_000
    assert seeded.labels.filter(pl.col("scenario") == "normal").height > 0


def test_260_attack_numbers_are_on_the_hotlist_and_485_are_not_covered_at_all(seeded: Traffic) -> None:
    numbers = _attack(seeded)["called"].unique().to_numpy()
    covered = _covered(seeded, numbers)
    assert covered.sum() == 260 and (~covered).sum() == 485
    exact = {int(e[1:]) for e in seeded.hotlist if e[1:].isdigit()}
    assert set(numbers[covered].tolist()) <= exact
    assert set(numbers[covered].tolist()) == set(seeded.instance("irsf-1").hotlisted)
    assert len(seeded.hotlist) > 260  # decoys too


def test_ordinary_traffic_never_touches_the_hotlist(seeded: Traffic) -> None:
    joined = pl.concat([seeded.cdrs, seeded.labels.select("scenario")], how="horizontal")
    benign = joined.filter(pl.col("scenario") != "irsf")
    numbers = np.concatenate([benign["called"].to_numpy(), benign["caller"].drop_nulls().to_numpy()])
    assert not _covered(seeded, numbers).any()


def test_the_seed_case_is_reproducible_and_seeds_differ(seeded: Traffic) -> None:
    again = seed_case(seed=3)
    assert again.cdrs.equals(seeded.cdrs) and again.hotlist == seeded.hotlist
    other = seed_case(seed=4, subscribers=200)
    assert _attack(other).height == 18_000 and _attack(other)["called"].n_unique() == 745
    assert set(other.instance("irsf-1").numbers) != set(seeded.instance("irsf-1").numbers)


@pytest.fixture(scope="module")
def alerts(seeded: Traffic) -> list[Alert]:
    """The batch engine's alerts over the seed's case, with the default rules and the case's hotlist."""
    return evaluate(seeded.cdrs, RuleSet.default("GB"), MatcherLookup.from_texts(list(seeded.hotlist)))


def test_the_batch_engine_raises_a_hotlist_alert_for_each_of_the_260_and_none_for_the_485(
    seeded: Traffic, alerts: list[Alert]
) -> None:
    attack = _attack(seeded)["called"].unique().to_list()
    hotlisted = set(seeded.instance("irsf-1").hotlisted)
    hits = [a for a in alerts if a.rule == "hotlist_hit"]
    assert {a.subject for a in hits} == {f"number:+{n}" for n in hotlisted}
    assert len({a.subject for a in hits}) == 260
    implicated = {n for a in hits for n in a.numbers}
    assert implicated == hotlisted
    others = set(attack) - hotlisted
    assert len(others) == 485 and not implicated & others
    assert all(c.called in hotlisted for a in hits for c in a.evidence)


def test_the_streaming_engine_gives_the_same_alerts(seeded: Traffic, alerts: list[Alert]) -> None:
    lookup = MatcherLookup.from_texts(list(seeded.hotlist))
    engine = StreamEngine(RuleSet.default("GB"), lambda: lookup)
    streamed: list[Alert] = []
    for offset in range(0, seeded.cdrs.height, 1_000):
        streamed.extend(engine.feed(seeded.cdrs.slice(offset, 1_000)))
    assert engine.fed == seeded.cdrs.height and engine.late == 0
    assert [a.key for a in streamed] == [a.key for a in alerts]
    assert streamed == alerts
