"""Writing a simulated run as files: the CDRs in ringfence's canonical layout, the labels, and the hotlist.

**CDRs**, CSV with the header ``start,caller,called,duration_s,answered,direction,subscriber,route,cost``: ``start``
in ISO 8601 UTC with milliseconds and ``Z`` (``2026-11-22T10:00:00.250Z``), numbers as ``+`` and E.164 digits,
``caller`` empty when withheld, ``duration_s`` in seconds with up to three decimals, ``answered`` ``true`` or
``false``, ``direction`` ``outgoing``, ``incoming``, ``roaming_out`` or ``roaming_in``, ``cost`` a decimal. JSONL
has the same keys, with ``null`` for a withheld caller and JSON numbers and booleans. A name ending in ``.gz`` is
gzipped; ``.jsonl`` / ``.ndjson`` (before any ``.gz``) means JSONL. Rows are in time order, so a row's line in a
CSV file is its ``line`` in the frame (the header is line 1); in JSONL, one less.

**Labels**, CSV ``line,scenario,instance``: for every CDR, its line in the CDR file as written, its scenario
(``normal``, ``irsf``, ``wangiri``, ``wangiri_callback``, ``simbox``, ``roaming``) and its instance (``irsf-1``;
empty for normal traffic). **Hotlist**: a TXT file of test numbers and ranges, one per line after ``#`` comments, as the
hotlist importer reads it (import it without ``wildcard_last``: derived ranges would cover more of the attack than
the simulated feed knows).

Formatting is done on whole columns with polars, never per row in Python.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final, Literal, cast

import polars as pl

from ringfence.cdrs.models import Direction
from ringfence.errors import InvalidInput

if TYPE_CHECKING:
    from .mix import Traffic

__all__ = [
    "CDR_HEADER",
    "CdrFormat",
    "Written",
    "cdr_format",
    "cdr_text",
    "companion_paths",
    "write_cdrs",
    "write_hotlist",
    "write_labels",
    "write_traffic",
]

CdrFormat = Literal["csv", "jsonl"]
CDR_HEADER: Final = ("start", "caller", "called", "duration_s", "answered", "direction", "subscriber", "route", "cost")
_DIRECTIONS: Final = [d.label for d in Direction]
_GZIP_LEVEL: Final = 6


def cdr_format(path: str | Path, fmt: str | None = None) -> tuple[CdrFormat, bool]:
    """The format (``fmt``, else from the name) and whether to gzip (the name ends in ``.gz``)."""
    name = Path(path).name.lower()
    gz = name.endswith(".gz")
    stem = name.removesuffix(".gz")
    if fmt is None:
        return ("jsonl" if stem.endswith((".jsonl", ".ndjson")) else "csv"), gz
    if fmt.lower() not in ("csv", "jsonl"):
        raise InvalidInput(f"unknown CDR format {fmt!r}; expected csv or jsonl", code="unknown_format")
    return ("csv" if fmt.lower() == "csv" else "jsonl"), gz


def _decimal(units: pl.Expr, places: int) -> pl.Expr:
    """Non-negative integer ``units`` of 10**-places as decimal text without trailing zeros (``12.25``, ``7``)."""
    scale = 10**places
    whole = (units // scale).cast(pl.String)
    frac = (units % scale).cast(pl.String).str.zfill(places).str.strip_chars_end("0")
    return pl.when(units % scale == 0).then(whole).otherwise(pl.concat_str([whole, pl.lit("."), frac]))


def _number(column: str) -> pl.Expr:
    return pl.concat_str([pl.lit("+"), pl.col(column).cast(pl.String)])


def cdr_text(cdrs: pl.DataFrame, fmt: CdrFormat = "csv") -> pl.DataFrame:
    """The columns of the CDR file: all text for CSV; JSON numbers and booleans kept for JSONL."""
    start = pl.from_epoch(pl.col("start_ms"), time_unit="ms").dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
    direction = pl.col("direction").cast(pl.Int64).replace_strict(list(range(4)), _DIRECTIONS, return_dtype=pl.String)
    cost_units = (pl.col("cost") * 10_000).round(0).cast(pl.Int64)
    if fmt == "csv":
        duration = _decimal(pl.col("duration_ms"), 3)
        answered = pl.when(pl.col("answered")).then(pl.lit("true")).otherwise(pl.lit("false"))
        cost = _decimal(cost_units, 4)
    else:  # numpy divides exactly rounded (polars multiplies by the reciprocal: 163 / 10000 = 0.016300000000000002)
        duration = pl.lit(pl.Series(cdrs["duration_ms"].to_numpy() / 1000, dtype=pl.Float64, nan_to_null=True))
        answered = pl.col("answered")
        units = cdrs.select(cost_units)["cost"].to_numpy()
        cost = pl.lit(pl.Series(units / 10_000, dtype=pl.Float64, nan_to_null=True))
    return cdrs.select(
        start.alias("start"),
        _number("caller").alias("caller"),
        _number("called").alias("called"),
        duration.alias("duration_s"),
        answered.alias("answered"),
        direction.alias("direction"),
        pl.col("subscriber"),
        pl.col("route"),
        cost.alias("cost"),
    )


def _open(path: Path, gz: bool) -> IO[bytes]:
    if gz:
        return cast(IO[bytes], gzip.open(path, "wb", compresslevel=_GZIP_LEVEL))
    return path.open("wb")


def write_cdrs(cdrs: pl.DataFrame, path: str | Path, fmt: str | None = None) -> int:
    """Write ``cdrs`` (a :data:`~ringfence.cdrs.models.CDR_SCHEMA` frame) to ``path``; the number of rows."""
    target = Path(path)
    kind, gz = cdr_format(target, fmt)
    text = cdr_text(cdrs, kind)
    with _open(target, gz) as out:
        if kind == "csv":
            text.write_csv(out, null_value="", line_terminator="\n")
        else:
            text.write_ndjson(out)
    return cdrs.height


def write_labels(labels: pl.DataFrame, path: str | Path, fmt: CdrFormat = "csv") -> int:
    """Write the labels CSV (``line,scenario,instance``), gzipped if the name ends in ``.gz``; the number of rows.

    ``line`` is the row's line in the CDR file written as ``fmt``: from 2 in CSV (the header is line 1), from 1 in
    JSONL."""
    target = Path(path)
    line = pl.col("seq") + (2 if fmt == "csv" else 1)
    instance = pl.when(pl.col("instance") != "").then(pl.col("instance"))  # empty, not "", for normal traffic
    with _open(target, target.name.lower().endswith(".gz")) as out:
        labels.select(line.alias("line"), "scenario", instance.alias("instance")).write_csv(
            out, null_value="", line_terminator="\n"
        )
    return labels.height


def write_hotlist(entries: Iterable[str], path: str | Path, note: str = "") -> int:
    """Write the hotlist TXT: ``#`` comment lines for ``note``, then one entry a line; the number of entries."""
    lines = [f"# {line}".rstrip() for line in note.splitlines()] + list(entries)
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines) - len(note.splitlines())


def companion_paths(cdr_path: str | Path) -> tuple[Path, Path]:
    """Default labels and hotlist paths beside a CDR file: ``day.csv.gz`` gives ``day.labels.csv`` and
    ``day.hotlist.txt``."""
    path = Path(cdr_path)
    stem = path.name
    for suffix in (".gz", ".csv", ".jsonl", ".ndjson"):
        stem = stem.removesuffix(suffix) if stem.lower().endswith(suffix) else stem
    return path.with_name(f"{stem}.labels.csv"), path.with_name(f"{stem}.hotlist.txt")


@dataclass(frozen=True, slots=True)
class Written:
    """Where a run went and how much of it: rows per scenario, hotlist entries."""

    cdrs: Path
    labels: Path
    hotlist: Path
    rows: int
    scenarios: dict[str, int]
    entries: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "cdrs": str(self.cdrs),
            "labels": str(self.labels),
            "hotlist": str(self.hotlist),
            "rows": self.rows,
            "scenarios": self.scenarios,
            "hotlist_entries": self.entries,
        }


def write_traffic(
    traffic: Traffic,
    cdr_path: str | Path,
    labels_path: str | Path | None = None,
    hotlist_path: str | Path | None = None,
    fmt: str | None = None,
) -> Written:
    """Write a run's three files (labels and hotlist beside the CDRs unless named)."""
    default_labels, default_hotlist = companion_paths(cdr_path)
    labels = Path(labels_path) if labels_path is not None else default_labels
    hotlist = Path(hotlist_path) if hotlist_path is not None else default_hotlist
    rows = write_cdrs(traffic.cdrs, cdr_path, fmt)
    write_labels(traffic.labels, labels, cdr_format(cdr_path, fmt)[0])
    mix = traffic.mix
    note = (
        f"simulated IRSF and Wangiri test numbers: seed {mix.seed}, home {mix.home}, {len(traffic.hotlist)} entries\n"
        "exact numbers and ranges; import without wildcard_last"
    )
    entries = write_hotlist(traffic.hotlist, hotlist, note)
    return Written(Path(cdr_path), labels, hotlist, rows, traffic.counts(), entries)
