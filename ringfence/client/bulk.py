"""The body of a bulk report upload: a file as it is, or reports (dicts or :class:`NewReport`) written as JSONL."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Literal

import orjson

from ringfence.client.models import NewReport, iso_time

__all__ = ["BulkFormat", "BulkSource", "bulk_body"]

BulkFormat = Literal["csv", "jsonl"]
#: A CSV or JSONL file (gzip too), or the reports themselves.
BulkSource = str | os.PathLike[str] | Iterable[NewReport | Mapping[str, object]]

_MEDIA = {"csv": "text/csv", "jsonl": "application/x-ndjson"}
_SUFFIXES: dict[str, BulkFormat] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def bulk_body(source: BulkSource, fmt: BulkFormat | None = None) -> tuple[bytes, str]:
    """The upload's bytes and content type.

    A path is sent as it is: its format from ``fmt`` or its suffix (``.csv``, ``.jsonl``/``.ndjson``, either with
    ``.gz``); otherwise the server tells CSV from JSONL by the first line. Reports become one JSON object per line,
    so the line numbers of the answer's errors are the positions of the reports (1 = the first).
    """
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        fmt = fmt or _format_of(path)
        return path.read_bytes(), _MEDIA[fmt] if fmt else "application/octet-stream"
    if fmt == "csv":
        raise ValueError("reports given as objects are sent as JSONL; fmt='csv' applies to files only")
    lines = [_json_line(i, item) for i, item in enumerate(source, start=1)]
    return b"".join(lines), _MEDIA["jsonl"]


def _format_of(path: Path) -> BulkFormat | None:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    return _SUFFIXES.get(suffixes[-1]) if suffixes else None


def _json_line(position: int, item: NewReport | Mapping[str, object]) -> bytes:
    if isinstance(item, NewReport):
        row: Mapping[str, object] = item.to_json()
    elif isinstance(item, Mapping):
        row = {key: iso_time(value) if isinstance(value, datetime) else value for key, value in item.items()}
    else:
        raise TypeError(f"report {position} is a {type(item).__name__}; expected a NewReport or a dict")
    try:
        return orjson.dumps(row) + b"\n"
    except TypeError as exc:
        raise TypeError(f"report {position} cannot be written as JSON: {exc}") from None
