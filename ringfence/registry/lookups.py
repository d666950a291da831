"""Answering lookups for many numbers at once: normalise, look up and describe them in whole arrays.

:func:`lookup_batch` does the work with numpy (normalisation, index lookup, number info); the resulting
:class:`BatchAnswer` renders either as Python dicts (:meth:`BatchAnswer.answers`, for the CLI) or straight to JSON
bytes (:meth:`BatchAnswer.to_json`, for HTTP). The JSON path writes answers from templates: the number info of a
batch takes a few hundred distinct values, serialised once; times of listed numbers are formatted by numpy for the
whole batch; only errors are rendered as dicts. Both renderings give the same answers, and the same answer
a single lookup gives (tests/registry/test_lookups.py, tests/api/test_numbers.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from ringfence.errors import InvalidNumber
from ringfence.jsonrows import JsonRows
from ringfence.numbers import NUMBER_TYPES, REGIONS, normalise_many
from ringfence.numbers.lookup import info_codes
from ringfence.registry.index import Listing, LookupResult
from ringfence.registry.models import categories_from_mask
from ringfence.registry.service import RegistryService
from ringfence.registry.views import listing_view

__all__ = ["BatchAnswer", "lookup_batch"]


@dataclass(frozen=True)
class BatchAnswer:
    numbers: npt.NDArray[np.int64]  # 0 where the input was unusable
    errors: dict[int, InvalidNumber]
    found: LookupResult
    info_index: npt.NDArray[np.intp]  # per number: its index into infos
    infos: list[dict[str, Any]]  # the distinct number infos of this batch

    def _answer(self, i: int, number: int) -> dict[str, Any]:
        error = self.errors.get(i)
        if error is not None:
            return {"input": error.details.get("input"), "error": error.to_dict()}
        found = self.found
        listing = None
        if found.found[i]:
            listing = listing_view(
                Listing(
                    number,
                    int(found.first_ms[i]),
                    int(found.last_ms[i]),
                    int(found.report_count[i]),
                    int(found.reporter_count[i]),
                    int(found.categories[i]),
                )
            )
        return {
            "number": f"+{number}",
            "listed": listing is not None,
            "info": self.infos[int(self.info_index[i])],
            "listing": listing,
        }

    def answers(self) -> list[dict[str, Any]]:
        """One answer per input, in order: the lookup answer, or ``{"input", "error"}``."""
        return [self._answer(i, n) for i, n in enumerate(self.numbers.tolist())]

    def to_json(self) -> bytes:
        """``{"results": [...]}`` as JSON bytes, equal to ``orjson.dumps({"results": self.answers()})``.

        Rendered for the whole batch at once with :class:`~ringfence.jsonrows.JsonRows`: the number info and the
        categories come from the few distinct values of the batch, serialised once each.
        """
        found = self.found
        listed = np.flatnonzero(found.found)
        rows = JsonRows(len(self.numbers))
        rows.text(b'{"number":"+')
        rows.integers(self.numbers)
        rows.pick([b'","listed":false,"info":', b'","listed":true,"info":'], found.found)
        rows.pick([orjson.dumps(info) for info in self.infos], self.info_index)
        rows.pick([b',"listing":null}', b',"listing":{"first_reported_at":"'], found.found)
        if listed.size:
            masks = found.categories[listed]
            distinct_masks = np.unique(masks)
            categories = [orjson.dumps(categories_from_mask(int(m))) for m in distinct_masks]
            rows.times(found.first_ms[listed], listed)
            rows.text(b'","last_reported_at":"', listed)
            rows.times(found.last_ms[listed], listed)
            rows.text(b'","report_count":', listed)
            rows.integers(found.report_count[listed], listed)
            rows.text(b',"reporter_count":', listed)
            rows.integers(found.reporter_count[listed], listed)
            rows.text(b',"categories":', listed)
            rows.pick(categories, np.searchsorted(distinct_masks, masks), listed)
            rows.text(b"}}", listed)
        numbers = self.numbers.tolist()
        for i in self.errors:
            rows.replace(i, orjson.dumps(self._answer(i, numbers[i])))
        return b'{"results":[' + rows.join() + b"]}"


def lookup_batch(registry: RegistryService, raws: Sequence[object], region: str | None) -> BatchAnswer:
    """Normalise, look up and describe every input (unusable inputs get their error, the rest still answer)."""
    numbers, errors = normalise_many(raws, region)
    found = registry.lookup_many(numbers)
    region_idx, type_idx, valid, country_codes = info_codes(numbers)
    keys = (((region_idx.astype(np.int64) + 1) * 256 + type_idx) * 2 + valid) * 1000 + country_codes
    _, first, index = np.unique(keys, return_index=True, return_inverse=True)
    infos = [
        {
            "country": REGIONS[r] if r >= 0 else None,
            "country_code": cc,
            "type": NUMBER_TYPES[t].value,
            "valid": v,
        }
        for r, t, v, cc in zip(
            region_idx[first].tolist(),
            type_idx[first].tolist(),
            valid[first].tolist(),
            country_codes[first].tolist(),
            strict=True,
        )
    ]
    return BatchAnswer(numbers, errors, found, index, infos)
