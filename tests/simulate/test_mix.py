"""A whole run: reproducible, in time order, labelled row for row, its hotlist covering attack numbers only."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from ringfence.cdrs.models import CDR_SCHEMA
from ringfence.errors import InvalidInput
from ringfence.hotlists.matcher import RangeMatcher
from ringfence.hotlists.patterns import parse_pattern
from ringfence.simulate import ATTACKS, LABEL_SCHEMA, IrsfAttack, Mix, Traffic, simulate


def test_a_run_is_a_cdr_frame_in_time_order(traffic: Traffic) -> None:
    cdrs = traffic.cdrs
    assert cdrs.schema == pl.Schema(CDR_SCHEMA)
    assert cdrs["seq"].to_list() == list(range(cdrs.height))
    assert (cdrs["line"] == cdrs["seq"] + 2).all()
    assert cdrs["start_ms"].is_sorted()
    assert cdrs["called_plan"].all()
    assert cdrs["start_ms"].min() >= traffic.mix.start_ms
    assert cdrs.filter(~pl.col("answered"))["duration_ms"].eq(0).all()
    assert cdrs.filter(pl.col("answered"))["duration_ms"].gt(0).all()
    assert cdrs["cost"].min() >= 0 and cdrs["subscriber"].null_count() == 0 and cdrs["route"].null_count() == 0


def test_labels_line_up_with_the_rows(traffic: Traffic) -> None:
    labels = traffic.labels
    assert labels.schema == pl.Schema(LABEL_SCHEMA)
    assert labels["seq"].to_list() == traffic.cdrs["seq"].to_list()
    assert labels["line"].to_list() == traffic.cdrs["line"].to_list()
    assert set(labels["scenario"].unique()) == {"normal", "irsf", "wangiri", "wangiri_callback", "simbox", "roaming"}
    assert labels.filter(pl.col("scenario") == "normal")["instance"].eq("").all()
    # an instance's rows are the calls of its numbers and subscribers
    joined = pl.concat([traffic.cdrs, labels.select("scenario", "instance")], how="horizontal")
    for instance in traffic.instances:
        rows = joined.filter(pl.col("instance") == instance.id)
        assert rows.height > 0
        if instance.scenario == "irsf":
            assert set(rows["called"].unique().to_list()) == set(instance.numbers)
            assert set(rows["subscriber"].unique().to_list()) == set(instance.subscribers)
    assert joined.filter(pl.col("scenario").is_in(ATTACKS))["instance"].ne("").all()


def test_the_same_seed_gives_the_same_run_and_another_seed_another() -> None:
    small = Mix(seed=11, subscribers=500, hours=6)
    first, again = simulate(small), simulate(small)
    assert first.cdrs.equals(again.cdrs) and first.labels.equals(again.labels)
    assert first.hotlist == again.hotlist
    other = simulate(Mix(seed=12, subscribers=500, hours=6))
    assert not first.cdrs.equals(other.cdrs)


def _matcher(entries: tuple[str, ...]) -> RangeMatcher:
    return RangeMatcher.from_patterns([parse_pattern(e) for e in entries], range(len(entries)))


def test_the_hotlist_covers_attack_numbers_and_never_ordinary_traffic(traffic: Traffic) -> None:
    matcher = _matcher(traffic.hotlist)
    joined = pl.concat([traffic.cdrs, traffic.labels.select("scenario")], how="horizontal")
    benign = joined.filter(pl.col("scenario").is_in(["normal", "roaming"]))
    for column in ("caller", "called"):
        numbers = benign[column].drop_nulls().to_numpy()
        assert (matcher.longest_many(numbers) < 0).all(), column
    for instance in traffic.instances:
        if instance.scenario in ("irsf", "wangiri"):
            hit = matcher.longest_many(np.array(instance.numbers)) >= 0
            assert 0 < hit.sum() < len(instance.numbers) or len(instance.numbers) <= 3
            assert set(np.array(instance.numbers)[hit].tolist()) == set(instance.hotlisted)
    # decoys: entries no call of the run reaches
    reached = np.unique(np.concatenate([joined["called"].to_numpy(), joined["caller"].drop_nulls().to_numpy()]))
    hit_ids = set(matcher.longest_many(reached).tolist()) - {-1}
    assert len(traffic.hotlist) - len(hit_ids) >= 150


def test_attacks_use_distinct_subscribers(traffic: Traffic) -> None:
    owners = [s for i in traffic.instances if i.scenario in ("irsf", "simbox") for s in i.subscribers]
    assert len(owners) == len(set(owners))


@pytest.mark.parametrize(
    ("mix", "code"),
    [
        (Mix(home="ZZ"), "unknown_region"),
        (Mix(subscribers=0), "invalid_size"),
        (Mix(hours=0), "invalid_size"),
        (Mix(subscribers=100, simbox=(), wangiri=(), roaming=None, irsf=()), None),
    ],
)
def test_bad_sizes_are_refused_by_name(mix: Mix, code: str | None) -> None:
    if code is None:
        assert simulate(mix).labels["scenario"].unique().to_list() == ["normal"]
        return
    with pytest.raises(InvalidInput) as caught:
        simulate(mix)
    assert caught.value.code == code


def test_more_attack_sims_than_subscribers_is_refused() -> None:
    with pytest.raises(InvalidInput, match="not enough subscribers"):
        simulate(Mix(subscribers=10, irsf=(IrsfAttack(sims=20),), wangiri=(), simbox=(), roaming=None))
