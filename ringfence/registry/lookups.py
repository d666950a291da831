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
from ringfence.numbers import NUMBER_TYPES, REGIONS, info_many, normalise_many
from ringfence.numbers.lookup import split_country_code
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
    info_keys: list[int]  # per number: key into infos
    infos: dict[int, dict[str, Any]]  # the distinct number infos of this batch

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
            "info": self.infos[self.info_keys[i]],
            "listing": listing,
        }

    def answers(self) -> list[dict[str, Any]]:
        """One answer per input, in order: the lookup answer, or ``{"input", "error"}``."""
        return [self._answer(i, n) for i, n in enumerate(self.numbers.tolist())]

    def to_json(self) -> bytes:
        """``{"results": [...]}`` as JSON bytes, equal to ``orjson.dumps({"results": self.answers()})``."""
        info_json = {key: orjson.dumps(info).decode() for key, info in self.infos.items()}
        numbers = self.numbers.tolist()
        keys = self.info_keys
        parts = [
            f'{{"number":"+{n}","listed":false,"info":{info_json[k]},"listing":null}}'
            for n, k in zip(numbers, keys, strict=True)
        ]
        found = self.found
        rows = np.flatnonzero(found.found)
        if rows.size:
            picked = rows.tolist()
            masks = found.categories[rows].tolist()
            categories = {m: orjson.dumps(categories_from_mask(m)).decode() for m in set(masks)}
            listed = [
                f'{{"number":"+{n}","listed":true,"info":{info_json[k]},"listing":'
                f'{{"first_reported_at":"{first}Z","last_reported_at":"{last}Z",'
                f'"report_count":{count},"reporter_count":{reporters},"categories":{categories[mask]}}}}}'
                for n, k, first, last, count, reporters, mask in zip(
                    [numbers[i] for i in picked],
                    [keys[i] for i in picked],
                    np.datetime_as_string(found.first_ms[rows].astype("datetime64[ms]"), unit="ms").tolist(),
                    np.datetime_as_string(found.last_ms[rows].astype("datetime64[ms]"), unit="ms").tolist(),
                    found.report_count[rows].tolist(),
                    found.reporter_count[rows].tolist(),
                    masks,
                    strict=True,
                )
            ]
            for i, part in zip(picked, listed, strict=True):
                parts[i] = part
        for i in self.errors:
            parts[i] = orjson.dumps(self._answer(i, numbers[i])).decode()
        return b'{"results":[' + ",".join(parts).encode() + b"]}"


def lookup_batch(registry: RegistryService, raws: Sequence[object], region: str | None) -> BatchAnswer:
    """Normalise, look up and describe every input (unusable inputs get their error, the rest still answer)."""
    numbers, errors = normalise_many(raws, region)
    found = registry.lookup_many(numbers)
    region_idx, type_idx, valid = info_many(numbers)
    country_codes, _ = split_country_code(numbers)
    keys = ((((region_idx.astype(np.int64) + 1) * 256 + type_idx) * 2 + valid) * 1000 + country_codes).tolist()
    infos: dict[int, dict[str, Any]] = {}
    for i in np.unique(np.asarray(keys), return_index=True)[1].tolist():
        r = int(region_idx[i])
        infos[keys[i]] = {
            "country": REGIONS[r] if r >= 0 else None,
            "country_code": int(country_codes[i]),
            "type": NUMBER_TYPES[type_idx[i]].value,
            "valid": bool(valid[i]),
        }
    return BatchAnswer(numbers, errors, found, keys, infos)
