"""``ringfence simulate``: the three files, the seed's case, bad options named."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import orjson
from click.testing import CliRunner

from ringfence.cli import main
from ringfence.hotlists.published import collect


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["simulate", *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_simulate_writes_cdrs_labels_and_hotlist(tmp_path: Path) -> None:
    out = tmp_path / "day.csv.gz"
    code, stdout, _ = _run(str(out), "--subscribers", "800", "--hours", "12", "--seed", "5")
    assert code == 0, stdout
    assert f"to {out}" in stdout and "irsf: " in stdout and "wangiri: " in stdout
    rows = list(csv.DictReader(gzip.decompress(out.read_bytes()).decode().splitlines()))
    labels = list(csv.DictReader((tmp_path / "day.labels.csv").read_text().splitlines()))
    assert len(rows) == len(labels) > 1_000
    assert [int(x["line"]) for x in labels] == list(range(2, len(rows) + 2))
    published = collect((tmp_path / "day.hotlist.txt").read_bytes(), fmt=None, region=None, wildcard_last=0)
    assert published.invalid == 0 and len(published.entries) > 200
    # same options, same files
    again = tmp_path / "again.csv.gz"
    assert _run(str(again), "--subscribers", "800", "--hours", "12", "--seed", "5")[0] == 0
    assert gzip.decompress(again.read_bytes()) == gzip.decompress(out.read_bytes())


def test_simulate_the_seed_case_as_jsonl(tmp_path: Path) -> None:
    out = tmp_path / "seed.jsonl"
    labels, hotlist = tmp_path / "l.csv", tmp_path / "h.txt"
    code, stdout, _ = _run(
        str(out), "--seed-case", "--subscribers", "300", "--labels", str(labels), "--hotlist", str(hotlist), "--json"
    )
    assert code == 0, stdout
    summary = orjson.loads(stdout)
    assert summary["scenarios"]["irsf"] == 18_000 and summary["labels"] == str(labels)
    attack = {
        orjson.loads(line)["called"]
        for line, label in zip(
            out.read_text().splitlines(), csv.DictReader(labels.read_text().splitlines()), strict=True
        )
        if label["scenario"] == "irsf"
    }
    assert len(attack) == 745
    listed = {e for e in hotlist.read_text().splitlines() if not e.startswith("#")}
    assert len(attack & listed) == 260


def test_bad_options_are_named(tmp_path: Path) -> None:
    code, _, stderr = _run(str(tmp_path / "x.csv"), "--start", "yesterday")
    assert code == 2 and "--start 'yesterday'" in stderr
    code, _, stderr = _run(str(tmp_path / "x.csv"), "--home", "XX")
    assert code == 2 and "'XX'" in stderr
    code, _, stderr = _run(str(tmp_path / "x.csv"), "--subscribers", "3", "--irsf", "2")
    assert code == 2 and "not enough subscribers" in stderr
    assert not (tmp_path / "x.csv").exists()
