"""Applying a reassigned-numbers feed to the registry: read, validate and apply chunk by chunk.

A chunk (100,000 rows by default) is read, validated and handed to :meth:`RegistryService.apply_disconnects` before
the next is read, so memory stays bounded whatever the size of the feed, and a feed applies as far as it is good: a
bad row costs only itself, and a chunk applied stays applied if a later part of the file turns out damaged.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import fields
from typing import Any, BinaryIO

from ringfence.reassigned.reader import RawChunk, read_chunks, read_objects
from ringfence.reassigned.rows import RowParser
from ringfence.registry.disconnects import DisconnectOutcome
from ringfence.registry.files import FileFormat
from ringfence.registry.models import Member
from ringfence.registry.service import RegistryService, RowError

__all__ = ["DEFAULT_CHUNK", "apply_objects", "import_disconnects", "outcome_view"]

DEFAULT_CHUNK = 100_000  # rows per apply_disconnects call: large enough to amortise the index probe and transaction


def import_disconnects(
    registry: RegistryService,
    actor: Member | None,
    source: BinaryIO,
    region: str | None,
    chunk: int = DEFAULT_CHUNK,
    progress: Callable[[int], None] | None = None,
    *,
    fmt: FileFormat | None = None,
    future_skew_ms: int = 300_000,
) -> tuple[DisconnectOutcome, list[RowError]]:
    """Apply a feed file (CSV or JSONL, gzip or not; see :mod:`ringfence.reassigned.reader`) on behalf of ``actor``.

    Numbers in national format are read with ``region`` (for the FCC's ten-digit numbers: ``US``). ``progress`` is
    called with the bytes read from ``source`` so far (compressed bytes for gzip). Returns the summed outcome and
    the rejected rows, sorted by line. An unusable header raises :class:`ringfence.errors.InvalidInput`.
    """
    chunks = read_chunks(source, fmt=fmt, chunk=chunk, on_bytes=progress)
    return _apply(registry, actor, chunks, region, future_skew_ms)


def apply_objects(
    registry: RegistryService,
    actor: Member | None,
    items: Iterable[object],
    region: str | None,
    chunk: int = DEFAULT_CHUNK,
    *,
    future_skew_ms: int = 300_000,
) -> tuple[DisconnectOutcome, list[RowError]]:
    """Apply rows given as JSON objects (``{"number", "disconnect_date", "type"}``, same names as a file's header);
    an error's line is the item's position, from 1."""
    return _apply(registry, actor, read_objects(items, chunk=chunk), region, future_skew_ms)


def _apply(
    registry: RegistryService,
    actor: Member | None,
    chunks: Iterator[RawChunk],
    region: str | None,
    future_skew_ms: int,
) -> tuple[DisconnectOutcome, list[RowError]]:
    parser = RowParser(region=region, now_ms=registry.clock.now_ms(), future_skew_ms=future_skew_ms)
    total = DisconnectOutcome()
    errors: list[RowError] = []
    with _collector_paused():
        for raw in chunks:
            rows, rejected = parser.parse(raw)
            errors.extend(rejected)
            if rows:
                total.add(registry.apply_disconnects(actor, rows))
    errors.sort(key=lambda e: e.line)
    return total, errors


def outcome_view(outcome: DisconnectOutcome, errors: list[RowError]) -> dict[str, Any]:
    """What the API answers and the CLI prints: the outcome's counts, then each rejected row with its line."""
    view: dict[str, Any] = {f.name: getattr(outcome, f.name) for f in fields(outcome)}
    view["rejected"] = len(errors)
    view["errors"] = [{"line": e.line, **e.error.to_dict()} for e in errors]
    return view


@contextmanager
def _collector_paused() -> Iterator[None]:
    """A feed makes millions of short-lived lists and tuples, none in a reference cycle; the cyclic garbage collector
    would walk the heap again and again for nothing. Paused for the import, re-enabled by whoever paused it."""
    paused_here = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused_here:
            gc.enable()
