"""Rows of snapshot and delta files, rendered a chunk at a time from numpy columns.

A full snapshot renders exactly what ``/v1/export`` writes for a listing (:data:`LISTING_COLUMNS`, the same CSV
cells and the same JSON objects), and a delta exactly what the change feed sends for a change
(:func:`ringfence.feed.views.change_view`); the tests hold both to that, byte for byte. The per-row work of those
renderings (an ISO date, a number-plan lookup) is done here over whole columns instead: ``numpy.datetime_as_string``
for the times, :func:`ringfence.numbers.info_many` for country and type, one cached text per category bit set.
That is what makes a snapshot of a million listings take seconds rather than a minute.

Nothing here knows of files, HTTP or SSH: chunks go in, CSV and JSONL bytes come out.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Final

import numpy as np
import numpy.typing as npt
import orjson

from ringfence.feed.models import KINDS, ChangeBatch
from ringfence.numbers import NUMBER_TYPES, REGIONS, info_many
from ringfence.numbers.lookup import split_country_code
from ringfence.registry.files import EXPORT_COLUMNS
from ringfence.registry.models import categories_from_mask

__all__ = [
    "CHANGE_COLUMNS",
    "LISTING_COLUMNS",
    "csv_header",
    "iso_many",
    "render_changes",
    "render_listings",
]

I64Array = npt.NDArray[np.int64]

#: Columns of a full snapshot, in order: those of ``/v1/export``.
LISTING_COLUMNS: Final[tuple[str, ...]] = tuple(EXPORT_COLUMNS)
#: Columns of a delta's CSV: the change feed's change, flattened (``info`` and ``listing`` spread into columns).
CHANGE_COLUMNS: Final[tuple[str, ...]] = (
    "seq",
    "at",
    "kind",
    "number",
    "country",
    "country_code",
    "type",
    "valid",
    "listed",
    "categories",
    "first_reported_at",
    "last_reported_at",
    "report_count",
    "reporter_count",
)

_COUNTRY_CSV: Final = np.array(["", *REGIONS], dtype=object)  # indexed by region index + 1 (-1: no region)
_COUNTRY_JSON: Final = np.array(["null", *(f'"{r}"' for r in REGIONS)], dtype=object)
_TYPE: Final = np.array([t.value for t in NUMBER_TYPES], dtype=object)
_BOOL: Final = np.array(["false", "true"], dtype=object)  # the same word in CSV and JSON
_KIND: Final = np.array([k.value for k in KINDS], dtype=object)


@lru_cache(maxsize=1024)
def _categories(mask: int) -> tuple[str, str]:
    """A category bit set as its JSON list and its CSV cell (``a|b``); there are at most 512 of them."""
    names = categories_from_mask(mask)
    return orjson.dumps(names).decode(), "|".join(names)


def iso_many(ms: I64Array) -> list[str]:
    """Epoch milliseconds as ISO 8601 UTC text with a Z, as :func:`ringfence.registry.views.iso` writes them."""
    text = np.datetime_as_string(ms.astype("datetime64[ms]"), unit="ms")
    return [t + "Z" for t in text.tolist()]


def csv_header(columns: Sequence[str]) -> bytes:
    return (",".join(columns) + "\n").encode()


def _numbers(numbers: I64Array) -> list[str]:
    return [f"+{n}" for n in numbers.tolist()]


def render_listings(rows: I64Array) -> tuple[bytes, bytes]:
    """Listings as CSV lines and JSONL lines (no header).

    ``rows`` is an int64 array of shape (n, 6): number, first_ms, last_ms, report_count, reporter_count,
    categories, as the ``listings`` table holds them. JSON lines are filled into a fixed template: every value is a
    number, an ISO time or a word of a closed vocabulary (regions, types, categories), so none needs escaping; the
    tests hold each line equal to ``orjson.dumps`` of the export's record.
    """
    if not len(rows):
        return b"", b""
    numbers = rows[:, 0]
    region, ntype, valid = info_many(numbers)
    shown = _numbers(numbers)
    slot = region.astype(np.int64) + 1
    countries = _COUNTRY_CSV[slot].tolist()
    countries_json = _COUNTRY_JSON[slot].tolist()
    types = _TYPE[ntype].tolist()
    valids = _BOOL[valid.astype(np.int64)].tolist()
    first = iso_many(rows[:, 1])
    last = iso_many(rows[:, 2])
    reports = rows[:, 3].tolist()
    reporters = rows[:, 4].tolist()
    cats = [_categories(m) for m in rows[:, 5].tolist()]
    columns = (shown, types, valids, first, last, reports, reporters, cats)

    csv_text = "".join(
        [
            f"{n},{c},{t},{v},{f},{la},{r},{p},{k[1]}\n"
            for c, (n, t, v, f, la, r, p, k) in zip(countries, zip(*columns, strict=True), strict=True)
        ]
    )
    jsonl = "".join(
        [
            f'{{"number":"{n}","country":{c},"type":"{t}","valid":{v},"first_reported_at":"{f}",'
            f'"last_reported_at":"{la}","report_count":{r},"reporter_count":{p},"categories":{k[0]}}}\n'
            for c, (n, t, v, f, la, r, p, k) in zip(countries_json, zip(*columns, strict=True), strict=True)
        ]
    )
    return csv_text.encode(), jsonl.encode()


def render_changes(batch: ChangeBatch) -> tuple[bytes, bytes]:
    """Changes as CSV lines and JSONL lines (no header); a JSONL line is the change feed's ``change_view`` (filled
    into a template as in :func:`render_listings`; the tests hold it equal to ``orjson.dumps(change_view(c))``)."""
    if not len(batch):
        return b"", b""
    numbers = batch.number
    region, ntype, valid = info_many(numbers)
    slot = region.astype(np.int64) + 1
    head = zip(
        batch.seq.tolist(),
        iso_many(batch.at_ms),
        _KIND[batch.kind].tolist(),
        _numbers(numbers),
        _COUNTRY_CSV[slot].tolist(),
        _COUNTRY_JSON[slot].tolist(),
        split_country_code(numbers)[0].tolist(),
        _TYPE[ntype].tolist(),
        _BOOL[valid.astype(np.int64)].tolist(),
        batch.listed.tolist(),
        [_categories(m) for m in batch.categories.tolist()],
        iso_many(batch.first_ms),
        iso_many(batch.last_ms),
        batch.report_count.tolist(),
        batch.reporter_count.tolist(),
        strict=True,
    )
    lines: list[str] = []
    objects: list[str] = []
    for seq, at, kind, number, country, country_json, cc, ntext, vtext, listed, cats, first, last, rc, rp in head:
        prefix = f"{seq},{at},{kind},{number},{country},{cc},{ntext},{vtext}"
        about = (
            f'{{"seq":{seq},"at":"{at}","kind":"{kind}","number":"{number}","info":{{"country":{country_json},'
            f'"country_code":{cc},"type":"{ntext}","valid":{vtext}}}'
        )
        if listed:
            lines.append(f"{prefix},true,{cats[1]},{first},{last},{rc},{rp}\n")
            objects.append(
                f'{about},"listed":true,"categories":{cats[0]},"listing":{{"first_reported_at":"{first}",'
                f'"last_reported_at":"{last}","report_count":{rc},"reporter_count":{rp},"categories":{cats[0]}}}}}\n'
            )
        else:
            lines.append(f"{prefix},false,{cats[1]},,,,\n")
            objects.append(f'{about},"listed":false,"categories":{cats[0]},"listing":null}}\n')
    return "".join(lines).encode(), "".join(objects).encode()
