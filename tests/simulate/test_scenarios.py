"""Each scenario has the shape it claims: what a detector of it relies on."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import polars as pl

from ringfence.cdrs.models import Direction
from ringfence.numbers import info_many
from ringfence.simulate import Traffic
from ringfence.simulate.subscribers import MCC
from ringfence.simulate.timing import HOUR_MS


def _rows(traffic: Traffic, scenario: str, instance: str | None = None) -> pl.DataFrame:
    joined = pl.concat([traffic.cdrs, traffic.labels.select("scenario", "instance")], how="horizontal")
    rows = joined.filter(pl.col("scenario") == scenario)
    return rows if instance is None else rows.filter(pl.col("instance") == instance)


def test_normal_traffic_has_a_daily_rhythm_and_ordinary_calls(traffic: Traffic) -> None:
    rows = _rows(traffic, "normal")
    hour = (rows["start_ms"] % (24 * HOUR_MS)) // HOUR_MS
    by_day = int(hour.is_between(9, 17).sum()) / 9
    by_night = int(hour.is_between(1, 4).sum()) / 4
    assert by_day > 10 * by_night > 0
    remote = np.where(rows["direction"].to_numpy() == Direction.INCOMING, rows["caller"].to_numpy(), rows["called"])
    remote = remote[remote > 0]
    domestic = np.char.startswith(remote.astype(str), "44").mean()
    assert 0.85 < domestic < 0.99
    unanswered = 1 - rows["answered"].mean()
    assert 0.15 < unanswered < 0.3
    answered = rows.filter(pl.col("answered"))["duration_ms"]
    assert answered.median() > 40_000
    assert (answered < 6_000).mean() < 0.05
    assert set(rows["direction"].unique()) == {Direction.OUTGOING, Direction.INCOMING}
    assert rows.filter(pl.col("direction") == Direction.INCOMING)["caller"].null_count() > 0  # some withheld


def test_irsf_test_calls_are_short_calls_to_one_number_then_pumping_to_others(traffic: Traffic) -> None:
    for instance in (i for i in traffic.instances if i.scenario == "irsf"):
        rows = _rows(traffic, "irsf", instance.id)
        test_number = instance.facts["test_number"]
        n_test = instance.facts["test_calls"]
        first = rows.head(n_test)
        assert first["called"].eq(test_number).all()
        assert first["duration_ms"].max() < 6_000
        assert first["subscriber"].n_unique() == 1
        pumping = rows.slice(n_test)
        assert test_number not in pumping["called"].to_list()
        assert pumping["start_ms"].min() > first["start_ms"].max()
        assert pumping["called"].n_unique() == len(instance.numbers) - 1
        assert pumping["subscriber"].n_unique() > 1
        assert pumping.filter(pl.col("answered"))["duration_ms"].median() > 5 * 60_000
        assert pumping["direction"].eq(Direction.OUTGOING).all()
        # the same ranges: every called number is in one of the attack's blocks
        prefixes = [p.rstrip("?")[1:] for p in instance.facts["ranges"]]
        called = pumping["called"].cast(pl.String)
        in_ranges = pl.select(pl.any_horizontal([called.str.starts_with(p) for p in prefixes])).to_series()
        assert in_ranges.all()


def test_an_irsf_attack_starts_at_night(traffic: Traffic) -> None:
    for instance in (i for i in traffic.instances if i.scenario == "irsf"):
        first = _rows(traffic, "irsf", instance.id)["start_ms"][0]
        assert datetime.fromtimestamp(first / 1000, UTC).hour in (22, 23, 0, 1, 2, 3, 4)


def test_wangiri_rings_many_subscribers_once_from_one_foreign_range(traffic: Traffic) -> None:
    for instance in (i for i in traffic.instances if i.scenario == "wangiri"):
        rows = _rows(traffic, "wangiri", instance.id)
        assert rows["direction"].eq(Direction.INCOMING).all()
        assert rows["called"].n_unique() == rows.height  # each victim rung once
        assert rows["caller"].n_unique() <= len(instance.numbers)
        prefix = str(instance.facts["range"]).rstrip("?")[1:]
        assert rows["caller"].cast(pl.String).str.starts_with(prefix).all()
        assert not np.char.startswith(rows["caller"].to_numpy().astype(str), "44").any()
        assert rows["duration_ms"].max() <= 3_000
        assert rows["answered"].mean() < 0.25
        span = rows["start_ms"].max() - rows["start_ms"].min()
        assert span <= 15 * 60_000


def test_wangiri_callbacks_come_from_victims_to_the_number_that_rang_them(traffic: Traffic) -> None:
    for instance in (i for i in traffic.instances if i.scenario == "wangiri"):
        rings = _rows(traffic, "wangiri", instance.id)
        backs = _rows(traffic, "wangiri_callback", instance.id)
        assert backs.height == instance.facts["callbacks"] > 0
        rang = {row["called"]: (row["caller"], row["start_ms"]) for row in rings.iter_rows(named=True)}
        for row in backs.iter_rows(named=True):
            source, when = rang[row["caller"]]
            assert row["called"] == source and row["start_ms"] > when
            assert row["direction"] == Direction.OUTGOING and row["answered"]


def test_a_sim_box_makes_many_short_calls_to_many_numbers_over_one_route(traffic: Traffic) -> None:
    instance = traffic.instance("simbox-1")
    rows = _rows(traffic, "simbox", "simbox-1")
    assert set(rows["subscriber"].unique()) == set(instance.subscribers)
    assert rows["route"].n_unique() == 1
    short = (rows["duration_ms"] < 6_000).mean()
    assert abs(short - 0.6) < 0.05
    assert rows["called"].n_unique() > 0.8 * rows.height
    assert rows["called"].cast(pl.String).str.starts_with("44").all()
    hour = (rows["start_ms"] % (24 * HOUR_MS)) // HOUR_MS
    assert hour.n_unique() == 24  # round the clock


def test_roaming_goes_both_ways(traffic: Traffic) -> None:
    rows = _rows(traffic, "roaming")
    out = rows.filter(pl.col("direction") == Direction.ROAMING_OUT)
    visitors = rows.filter(pl.col("direction") == Direction.ROAMING_IN)
    assert out.height and visitors.height
    assert out["subscriber"].str.starts_with(str(MCC["GB"])).all()
    assert out["caller"].cast(pl.String).str.starts_with("44").all()
    assert not visitors["subscriber"].str.starts_with(str(MCC["GB"])).any()
    assert not visitors["caller"].cast(pl.String).str.starts_with("44").any()
    assert out["route"].str.starts_with("ROAM-").all()


def test_every_number_is_valid_for_its_country(traffic: Traffic) -> None:
    numbers = np.unique(np.concatenate([traffic.cdrs["called"].to_numpy(), traffic.cdrs["caller"].drop_nulls()]))
    _region, _type, valid = info_many(numbers)
    assert valid.all()
