"""Which changes a reader wants: by category, by country of the number, by number prefix.

The same filter serves the paged feed, the streams and webhooks. It is applied to whole :class:`ChangeBatch` columns
at once (a bulk import makes thousands of changes per write, and every subscriber filters each of them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from phonenumbers import region_code_for_country_code

from ringfence.errors import InvalidInput
from ringfence.feed.models import ChangeBatch
from ringfence.numbers import REGIONS, info_many
from ringfence.numbers.lookup import split_country_code
from ringfence.numbers.plan import REGION_INDEX
from ringfence.registry.models import CATEGORY_BITS, parse_category

__all__ = ["ChangeFilter"]

_MAX_DIGITS = 15


def _split(values: Iterable[str] | str | None) -> list[str]:
    """``["a,b", "c"]`` or ``"a,b"`` → ``["a", "b", "c"]`` (query strings carry lists either way)."""
    if values is None:
        return []
    items = [values] if isinstance(values, str) else list(values)
    return [part.strip() for item in items for part in item.split(",") if part.strip()]


def _digit_count(numbers: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    count = np.ones(numbers.shape, dtype=np.int64)
    for k in range(1, _MAX_DIGITS + 1):
        count += numbers >= 10**k
    return count


def _regions_of(numbers: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Each number's region (index into REGIONS); a number no region claims (unallocated, drama ranges) counts for
    the main region of its country code, so a GB filter sees every +44 number that is not Jersey's or Guernsey's."""
    region_idx, _types, _valid = info_many(numbers)
    out = region_idx.astype(np.int64)
    unknown = out < 0
    if unknown.any():
        codes, _ = split_country_code(numbers[unknown])
        main = {int(cc): REGION_INDEX.get(region_code_for_country_code(int(cc)), -1) for cc in np.unique(codes)}
        out[unknown] = [main[int(cc)] for cc in codes.tolist()]
    return out


@dataclass(frozen=True)
class ChangeFilter:
    categories: int = 0  # category bits; 0 = any
    regions: frozenset[int] = frozenset()  # indexes into REGIONS; empty = any
    prefixes: tuple[str, ...] = ()  # leading E.164 digits; empty = any

    @classmethod
    def parse(
        cls,
        categories: Iterable[str] | str | None = None,
        countries: Iterable[str] | str | None = None,
        prefixes: Iterable[str] | str | None = None,
    ) -> ChangeFilter:
        """From outside input; each bad value is refused naming it and why."""
        mask = 0
        for raw in _split(categories):
            mask |= CATEGORY_BITS[parse_category(raw)]
        regions: set[int] = set()
        for raw in _split(countries):
            index = REGION_INDEX.get(raw.upper())
            if index is None:
                raise InvalidInput(
                    f"unknown country {raw!r}; expected an ISO 3166 alpha-2 region such as GB or US",
                    code="unknown_country",
                    details={"input": raw},
                )
            regions.add(index)
        digits: list[str] = []
        for raw in _split(prefixes):
            cleaned = raw.replace(" ", "").replace("-", "").removeprefix("+")
            if (
                not cleaned.isascii()
                or not cleaned.isdigit()
                or not 1 <= len(cleaned) <= _MAX_DIGITS
                or cleaned[0] == "0"
            ):
                raise InvalidInput(
                    f"number prefix {raw!r} is not the start of an E.164 number (1 to 15 digits, no leading 0)",
                    code="invalid_prefix",
                    details={"input": raw},
                )
            digits.append(cleaned)
        return cls(mask, frozenset(regions), tuple(sorted(set(digits))))

    def is_empty(self) -> bool:
        return not (self.categories or self.regions or self.prefixes)

    def mask(self, batch: ChangeBatch) -> npt.NDArray[np.bool_]:
        """Which rows of ``batch`` pass."""
        keep = np.ones(len(batch), dtype=bool)
        if self.categories:
            keep &= (batch.categories & self.categories) != 0
        if self.prefixes and keep.any():
            numbers = batch.number
            length = _digit_count(numbers)
            hit = np.zeros(len(batch), dtype=bool)
            for prefix in self.prefixes:
                k = len(prefix)
                shift = np.power(10, np.maximum(length - k, 0), dtype=np.int64)
                hit |= (length >= k) & (numbers // shift == int(prefix))
            keep &= hit
        if self.regions and keep.any():
            keep &= np.isin(
                _regions_of(batch.number), np.fromiter(self.regions, dtype=np.int64, count=len(self.regions))
            )
        return keep

    def to_dict(self) -> dict[str, Any]:
        """The filter as the outside wrote it (webhook settings, stream acknowledgements)."""
        return {
            "categories": [c.value for c, bit in CATEGORY_BITS.items() if self.categories & bit],
            "countries": sorted(REGIONS[i] for i in self.regions),
            "prefixes": [f"+{p}" for p in self.prefixes],
        }
