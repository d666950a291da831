"""The files a run is written as: the canonical CDR layout (CSV or JSONL, gzip or not), labels, hotlist."""

from __future__ import annotations

import csv
import gzip
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import orjson
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringfence.cdrs.models import Direction
from ringfence.cdrs.reader import CdrReader
from ringfence.errors import InvalidInput
from ringfence.hotlists.published import collect
from ringfence.numbers import normalise_many
from ringfence.simulate import Traffic
from ringfence.simulate.writer import (
    CDR_HEADER,
    cdr_format,
    cdr_text,
    companion_paths,
    write_cdrs,
    write_hotlist,
    write_labels,
    write_traffic,
)

_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def _check_rows(rows: list[dict[str, object]], cdrs: pl.DataFrame) -> None:
    """The written rows say what the frame holds, field by field."""
    assert len(rows) == cdrs.height
    expected = cdrs.to_dicts()
    called, errors = normalise_many([str(r["called"]) for r in rows])
    assert not errors and called.tolist() == cdrs["called"].to_list()
    callers = [str(r["caller"]) for r in rows if r["caller"]]
    values, errors = normalise_many(callers)
    assert not errors and values.tolist() == cdrs["caller"].drop_nulls().to_list()
    for row, want in zip(rows, expected, strict=True):
        assert _ms(str(row["start"])) == want["start_ms"]
        assert (row["caller"] in ("", None)) == (want["caller"] is None)
        assert Decimal(str(row["duration_s"])) * 1000 == want["duration_ms"]
        assert str(row["answered"]).lower() == str(want["answered"]).lower()
        assert row["direction"] == Direction(want["direction"]).label
        assert row["subscriber"] == want["subscriber"] and row["route"] == want["route"]
        assert Decimal(str(row["cost"])) == Decimal(str(round(want["cost"], 4)))


def test_csv_has_the_canonical_layout(traffic: Traffic, tmp_path: Path) -> None:
    cdrs = traffic.cdrs.head(3_000)
    path = tmp_path / "day.csv"
    assert write_cdrs(cdrs, path) == 3_000
    text = path.read_text()
    assert text.splitlines()[0] == ",".join(CDR_HEADER)
    rows = list(csv.DictReader(text.splitlines()))
    assert pl.Series([r["start"] for r in rows]).str.contains(_TIME).all()
    assert {r["answered"] for r in rows} == {"true", "false"}
    assert all(r["called"].startswith("+") for r in rows)
    assert all(r["caller"] == "" or r["caller"].startswith("+") for r in rows)
    assert all(len(r["duration_s"].partition(".")[2]) <= 3 for r in rows)
    _check_rows(rows, cdrs)


def test_gzip_and_jsonl_by_name(traffic: Traffic, tmp_path: Path) -> None:
    cdrs = traffic.cdrs.head(2_000)
    write_cdrs(cdrs, tmp_path / "day.csv.gz")
    rows = list(csv.DictReader(gzip.decompress((tmp_path / "day.csv.gz").read_bytes()).decode().splitlines()))
    _check_rows(rows, cdrs)
    write_cdrs(cdrs, tmp_path / "day.jsonl.gz")
    lines = gzip.decompress((tmp_path / "day.jsonl.gz").read_bytes()).decode().splitlines()
    objects = [orjson.loads(line) for line in lines]
    assert list(objects[0]) == list(CDR_HEADER)
    assert all(isinstance(o["answered"], bool) for o in objects)
    assert any(o["caller"] is None for o in objects)
    _check_rows(objects, cdrs)


def test_format_by_name_or_by_option() -> None:
    assert cdr_format("a.csv") == ("csv", False)
    assert cdr_format("a.JSONL.gz") == ("jsonl", True)
    assert cdr_format("a.ndjson") == ("jsonl", False)
    assert cdr_format("a.txt", "jsonl") == ("jsonl", False)
    with pytest.raises(InvalidInput, match="'xml'"):
        cdr_format("a.csv", "xml")
    assert companion_paths("out/day.csv.gz") == (Path("out/day.labels.csv"), Path("out/day.hotlist.txt"))


@given(st.lists(st.integers(0, 10**9), min_size=1, max_size=50), st.lists(st.integers(0, 10**9), min_size=1))
def test_durations_and_costs_are_exact_decimals(durations: list[int], costs: list[int]) -> None:
    size = min(len(durations), len(costs))
    frame = pl.DataFrame(
        {
            "start_ms": [0] * size,
            "caller": [None] * size,
            "called": [447700900123] * size,
            "duration_ms": durations[:size],
            "answered": [True] * size,
            "direction": [0] * size,
            "subscriber": ["1"] * size,
            "route": ["R"] * size,
            "cost": [c / 10_000 for c in costs[:size]],
        },
        schema_overrides={"direction": pl.Int8},
    )
    text = cdr_text(frame)
    assert [Decimal(t) * 1000 for t in text["duration_s"]] == durations[:size]
    assert [Decimal(t) * 10_000 for t in text["cost"]] == costs[:size]
    assert not any(t.endswith((".", "0")) and "." in t for t in text["duration_s"].to_list() + text["cost"].to_list())


def test_labels_name_the_line_of_every_cdr(traffic: Traffic, tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    assert write_labels(traffic.labels, path) == traffic.labels.height
    rows = list(csv.DictReader(path.read_text().splitlines()))
    assert list(rows[0]) == ["line", "scenario", "instance"]
    assert [int(r["line"]) for r in rows] == traffic.cdrs["line"].to_list()
    assert [r["scenario"] for r in rows] == traffic.labels["scenario"].to_list()
    assert [r["instance"] for r in rows] == traffic.labels["instance"].to_list()


def test_the_hotlist_file_imports_as_written(traffic: Traffic, tmp_path: Path) -> None:
    path = tmp_path / "hot.txt"
    assert write_hotlist(traffic.hotlist, path, "simulated\nseed 7") == len(traffic.hotlist)
    published = collect(path.read_bytes(), fmt=None, region=None, wildcard_last=0)
    assert published.invalid == 0 and published.duplicates == 0
    assert set(published.entries) == set(traffic.hotlist)


def test_write_traffic_writes_the_three_files(traffic: Traffic, tmp_path: Path) -> None:
    written = write_traffic(traffic, tmp_path / "day.csv")
    assert written.labels == tmp_path / "day.labels.csv" and written.hotlist == tmp_path / "day.hotlist.txt"
    assert written.rows == traffic.cdrs.height and sum(written.scenarios.values()) == written.rows
    assert len((tmp_path / "day.csv").read_text().splitlines()) == written.rows + 1


@pytest.mark.parametrize("name", ["day.csv", "day.csv.gz", "day.jsonl", "day.jsonl.gz"])
def test_the_cdr_reader_reads_every_row_back_unchanged(traffic: Traffic, tmp_path: Path, name: str) -> None:
    written = write_traffic(traffic, tmp_path / name)
    read = CdrReader().read_path(tmp_path / name)
    assert read.quarantined == [] and read.rows == traffic.cdrs.height
    assert read.frame.drop("line").equals(traffic.cdrs.drop("line"))
    labels = list(csv.DictReader(written.labels.read_text().splitlines()))
    assert [int(row["line"]) for row in labels] == read.frame["line"].to_list()
