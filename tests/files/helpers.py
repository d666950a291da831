"""What the file tests share: reading sets back, a client's view of the registry, some registry activity."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from pathlib import Path
from typing import Any

import orjson

from ringfence.clock import FixedClock
from ringfence.files.manifest import FileSet
from ringfence.registry.files import write_listings
from ringfence.registry.models import Category, Member, NewReport
from ringfence.runtime import Runtime

__all__ = [
    "DAY_MS",
    "NUMBERS",
    "apply_delta",
    "csv_rows",
    "export_csv",
    "export_jsonl",
    "jsonl_rows",
    "listings_from_full",
    "read_set",
    "report_some",
    "sha256_of",
]

DAY_MS = 86_400_000
NUMBERS = (
    442079460018,  # GB fixed line
    447911123456,  # GB mobile
    12015550123,  # US
    33612345678,  # FR mobile
    4930123456,  # DE fixed line
    8613800138000,  # CN mobile
    882345678901,  # international networks (no region)
    80012345678,  # +800: non-geographic, region 001
)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_set(drop: Path, file_set: FileSet) -> tuple[bytes, bytes]:
    """The decompressed CSV and JSONL of a set."""
    csv_file, jsonl_file = file_set.files
    return gzip.decompress((drop / csv_file.name).read_bytes()), gzip.decompress((drop / jsonl_file.name).read_bytes())


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode())))


def jsonl_rows(data: bytes) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in data.splitlines()]


def export_csv(runtime: Runtime) -> bytes:
    """``/v1/export``'s CSV of the store's listings now: what a full snapshot must hold."""
    out = io.StringIO(newline="")
    write_listings(runtime.registry.iter_listings(), out, "csv")
    return out.getvalue().encode()


def export_jsonl(runtime: Runtime) -> bytes:
    out = io.StringIO(newline="")
    write_listings(runtime.registry.iter_listings(), out, "jsonl")
    return out.getvalue().encode()


def listings_from_full(data: bytes) -> dict[str, dict[str, Any]]:
    """A client loading a full snapshot's JSONL: number -> listing record."""
    return {row["number"]: row for row in jsonl_rows(data)}


def apply_delta(state: dict[str, dict[str, Any]], data: bytes) -> int:
    """A client applying a delta's JSONL to what it loaded; returns the last seq applied."""
    last = 0
    for change in jsonl_rows(data):
        assert change["seq"] > last
        last = change["seq"]
        if change["listed"]:
            listing = change["listing"]
            state[change["number"]] = {
                "number": change["number"],
                "country": change["info"]["country"],
                "type": change["info"]["type"],
                "valid": change["info"]["valid"],
                **listing,
            }
        else:
            state.pop(change["number"], None)
    return last


def report_some(runtime: Runtime, clock: FixedClock, reporters: list[Member], *, start: int = 0) -> None:
    """Reports on :data:`NUMBERS` by several members, in several categories, over several days."""
    categories = list(Category)
    for i, number in enumerate(NUMBERS):
        for j, member in enumerate(reporters[: 1 + (i % len(reporters))]):
            clock.advance(1000)
            runtime.registry.report(
                member,
                NewReport(number, categories[(i + j + start) % len(categories)], clock.now_ms() - (i + 1) * DAY_MS),
            )
