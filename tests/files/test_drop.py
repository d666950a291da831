"""The drop folder hands out the files of complete sets by plain name, and nothing else."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import orjson
import pytest

from ringfence.errors import InvalidInput, NotFound
from ringfence.files.drop import DropFolder
from ringfence.files.manifest import FileEntry, FileSet, parse_name, set_stem

COLUMNS = ("number",)


def make_set(drop: DropFolder, kind: str, seq_from: int, seq_to: int, created_ms: int = 1_790_000_000_000) -> FileSet:
    """A set written by hand: its two data files and its manifest."""
    stem = set_stem(kind, seq_from, seq_to)  # type: ignore[arg-type]
    root = drop.ensure()
    files = []
    for fmt, suffix in (("csv", ".csv.gz"), ("jsonl", ".jsonl.gz")):
        (root / (stem + suffix)).write_bytes(b"data of " + stem.encode())
        files.append(FileEntry(stem + suffix, fmt, 8 + len(stem), "0" * 64, 1))  # type: ignore[arg-type]
    file_set = FileSet(kind, seq_from, seq_to, created_ms, 1, COLUMNS, tuple(files))  # type: ignore[arg-type]
    drop.write_manifest(file_set)
    return file_set


@pytest.fixture
def drop(tmp_path: Path) -> DropFolder:
    return DropFolder(tmp_path / "drop")


def test_names_sort_by_seq_and_parse_back() -> None:
    assert set_stem("full", 1, 1234) == "full-000000001234"
    assert set_stem("delta", 1235, 1300) == "delta-000000001235-000000001300"
    names = [set_stem("full", 1, n) for n in (5, 40, 300, 10**12 - 1)]
    assert sorted(names) == names
    assert parse_name("full-000000001234.csv.gz") == "full-000000001234"
    assert parse_name("delta-000000001235-000000001300.manifest.json") == "delta-000000001235-000000001300"
    for bad in ("full-1234.csv.gz", "full-000000001234.csv", "../full-000000001234.csv.gz", ".lock", "x", ""):
        assert parse_name(bad) is None, bad


def test_sets_are_listed_in_seq_order(drop: DropFolder) -> None:
    assert drop.sets() == [] and drop.latest() is None  # no folder yet: nothing, no error
    full = make_set(drop, "full", 1, 10)
    d1 = make_set(drop, "delta", 11, 20)
    full2 = make_set(drop, "full", 1, 20)
    d2 = make_set(drop, "delta", 21, 25)
    assert drop.sets() == [full, d1, full2, d2]
    assert drop.latest() == d2 and drop.latest_full() == full2


def test_only_files_of_complete_sets_are_handed_out(drop: DropFolder) -> None:
    full = make_set(drop, "full", 1, 10)
    root = drop.root
    (root / "full-000000000011.csv.gz").write_bytes(b"a set still being written: no manifest yet")
    (root / ".tmp-full-000000000012.csv.gz.1.abcd").write_bytes(b"temporary")
    (root / "notes.txt").write_text("not a drop file")
    assert [f.name for f in drop.files()] == sorted(full.names())
    found = drop.resolve(full.files[0].name)
    assert found.path == root / full.files[0].name and found.entry == full.files[0]
    assert found.media_type == "application/gzip"
    assert drop.resolve(full.manifest).media_type == "application/json"
    for name in ("full-000000000011.csv.gz", ".tmp-full-000000000012.csv.gz.1.abcd", "notes.txt", ".lock"):
        with pytest.raises(NotFound) as caught:
            drop.resolve(name)
        assert caught.value.code == "file_not_found"


@pytest.mark.parametrize(
    "name",
    [
        "..",
        "../etc/passwd",
        "/etc/passwd",
        "full-000000000010.csv.gz/..",
        "./full-000000000010.csv.gz",
        "full-000000000010.csv.gz\x00",
        "drop/full-000000000010.csv.gz",
        "%2e%2e",
        "",
    ],
)
def test_paths_are_not_names(drop: DropFolder, name: str) -> None:
    make_set(drop, "full", 1, 10)
    with pytest.raises(NotFound):
        drop.resolve(name)


def test_a_symbolic_link_is_never_followed(drop: DropFolder, tmp_path: Path) -> None:
    full = make_set(drop, "full", 1, 10)
    secret = tmp_path / "secret.txt"
    secret.write_text("outside the drop folder")
    target = drop.root / full.files[0].name
    target.unlink()
    os.symlink(secret, target)  # a listed name, pointing outside
    with pytest.raises(NotFound):
        drop.resolve(full.files[0].name)
    assert full.files[0].name not in [f.name for f in drop.files()]
    (drop.root / full.files[1].name).unlink()
    (drop.root / full.files[1].name).mkdir()  # a directory under a listed name
    with pytest.raises(NotFound):
        drop.resolve(full.files[1].name)


def test_unreadable_manifests_are_skipped_and_logged(drop: DropFolder, caplog: pytest.LogCaptureFixture) -> None:
    good = make_set(drop, "full", 1, 10)
    (drop.root / "full-000000000020.manifest.json").write_text("{not json")
    (drop.root / "full-000000000030.manifest.json").write_bytes(orjson.dumps({**good.to_dict(), "format_version": 99}))
    (drop.root / "full-000000000040.manifest.json").write_bytes(orjson.dumps(good.to_dict()))  # describes set 10
    with caplog.at_level(logging.WARNING, logger="ringfence.files"):
        assert drop.sets() == [good]
    assert caplog.text.count("skipping manifest") == 3


def test_a_manifest_cannot_claim_files_of_another_set(drop: DropFolder) -> None:
    good = make_set(drop, "full", 1, 10)
    claim = good.to_dict()
    claim["files"][0]["name"] = "full-000000000099.csv.gz"
    with pytest.raises(InvalidInput) as caught:
        FileSet.from_dict(claim)
    assert caught.value.code == "invalid_manifest"


def test_retention_with_keep_zero_keeps_everything(drop: DropFolder) -> None:
    sets = [make_set(drop, "full", 1, n) for n in (10, 20, 30)]
    with drop.lock():
        assert drop.prune(0) == []
        assert drop.prune(3) == []
        assert drop.prune(1) == sets[:2]
    assert drop.sets() == sets[2:]
