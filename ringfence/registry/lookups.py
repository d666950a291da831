"""Answering lookups for many numbers at once: normalise, look up and describe them in whole arrays.

:func:`lookup_batch` does the work with numpy (normalisation, index lookup, number info); the resulting
:class:`BatchAnswer` renders either as Python dicts (:meth:`BatchAnswer.answers`, for the CLI) or straight to JSON
bytes (:meth:`BatchAnswer.to_json`, for HTTP). The JSON path writes answers from templates: the number info of a
batch takes a few hundred distinct values, serialised once; times of listed numbers are formatted by numpy for the
whole batch; only errors are rendered as dicts. Both renderings give the same answers, and the same answer
a single lookup gives (tests/registry/test_lookups.py, tests/api/test_numbers.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from ringfence.errors import InvalidNumber
from ringfence.jsonrows import JsonRows, text_table
from ringfence.numbers import NUMBER_TYPES, REGIONS, normalise_many
from ringfence.numbers.lookup import info_codes
from ringfence.registry.assess import DEFAULT_OPTIONS, Assessment, BatchAssessment, LookupOptions, assess_many
from ringfence.registry.index import Listing, LookupResult
from ringfence.registry.models import FLAG_NAMES, categories_from_mask
from ringfence.registry.scoring import Scorer
from ringfence.registry.service import RegistryService
from ringfence.registry.views import lookup_answer

__all__ = ["BatchAnswer", "Screen", "lookup_batch"]

#: ``,"score":X.Y`` for every score a listing can have (0.0 to 100.0), as orjson writes the float.
_SCORE_TEXTS = text_table([b',"score":' + orjson.dumps(k / 10) for k in range(1001)])


_MEMBER_LISTS: tuple[str | None, ...] = (None, "allow", "deny")


@dataclass(frozen=True)
class Screen:
    """What lies beside the registry for each number of a batch: the never-list protection covering it (an index
    into ``protections``, their rendered views; -1: none) and the asking member's own list (0 none, 1 allow,
    2 deny)."""

    protection: npt.NDArray[np.int32]
    protections: list[dict[str, Any]]
    member_list: npt.NDArray[np.int8]


def _state_text(threshold: float, state: int) -> bytes:
    """The answer's ``threshold``, ``decayed`` and flag fields for one combination (``state``: decayed bit 8,
    flag bits 0-2)."""
    parts = [b',"threshold":' + orjson.dumps(threshold), b',"decayed":' + (b"true" if state & 8 else b"false")]
    for bit, name in FLAG_NAMES.items():
        parts.append(f',"{name}":{"true" if state & bit else "false"}'.encode())
    return b"".join(parts)


@dataclass(frozen=True)
class BatchAnswer:
    numbers: npt.NDArray[np.int64]  # 0 where the input was unusable
    errors: dict[int, InvalidNumber]
    found: LookupResult
    info_index: npt.NDArray[np.intp]  # per number: its index into infos
    infos: list[dict[str, Any]]  # the distinct number infos of this batch
    assessed: BatchAssessment
    options: LookupOptions
    scorer: Scorer
    now_ms: int
    screen: Screen | None = None

    def listed(self) -> npt.NDArray[np.bool_]:
        """Listed as the asking member sees it: its deny list lists, its allow list and the never-list clear,
        otherwise the registry's assessment."""
        listed = self.assessed.listed
        screen = self.screen
        if screen is None:
            return listed
        listed = listed & (screen.protection < 0)
        return np.where(screen.member_list == 2, True, np.where(screen.member_list == 1, False, listed))

    def _listing(self, i: int, number: int) -> Listing:
        found = self.found
        return Listing(
            number,
            int(found.first_ms[i]),
            int(found.last_ms[i]),
            int(found.report_count[i]),
            int(found.reporter_count[i]),
            int(found.categories[i]),
            int(found.weight[i]),
            int(found.flags[i]),
        )

    def _answer(self, i: int, number: int) -> dict[str, Any]:
        error = self.errors.get(i)
        if error is not None:
            return {"input": error.details.get("input"), "error": error.to_dict()}
        assessed = self.assessed
        assessment = None
        if self.found.found[i]:
            listing = self._listing(i, number)
            explain = self.scorer.explain(listing, self.now_ms, self.options.model) if self.options.explain else None
            assessment = Assessment(
                listing,
                int(assessed.score_tenths[i]) / 10,
                float(assessed.threshold[i]),
                bool(assessed.decayed[i]),
                bool(assessed.listed[i]),
                explain,
            )
        screen = self.screen
        never_list, member_list = None, None
        if screen is not None:
            k = int(screen.protection[i])
            never_list = screen.protections[k] if k >= 0 else None
            member_list = _MEMBER_LISTS[int(screen.member_list[i])]
        return lookup_answer(
            number,
            assessment,
            self.options,
            info=self.infos[int(self.info_index[i])],
            never_list=never_list,
            member_list=member_list,
        )

    def answers(self) -> list[dict[str, Any]]:
        """One answer per input, in order: the lookup answer, or ``{"input", "error"}``."""
        return [self._answer(i, n) for i, n in enumerate(self.numbers.tolist())]

    def to_json(self) -> bytes:
        """``{"results": [...]}`` as JSON bytes, equal to ``orjson.dumps({"results": self.answers()})``.

        Rendered for the whole batch at once with :class:`~ringfence.jsonrows.JsonRows`: the number info, categories
        and thresholds come from the few distinct values of the batch, serialised once each. (Explained answers are
        rendered one by one: they are for people reading a few numbers, not for bulk checks.)
        """
        if self.options.explain:
            return orjson.dumps({"results": self.answers()})
        found, assessed = self.found, self.assessed
        shown = np.flatnonzero(assessed.shown)
        rows = JsonRows(len(self.numbers))
        rows.text(b'{"number":"+')
        rows.integers(self.numbers)
        listed = self.listed()
        rows.pick([b'","listed":false,"info":', b'","listed":true,"info":'], listed)
        rows.pick([orjson.dumps(info) for info in self.infos], self.info_index)
        rows.pick([b',"listing":null', b',"listing":{"first_reported_at":"'], assessed.shown)
        if shown.size:
            masks = found.categories[shown]
            distinct_masks, mask_index = np.unique(masks, return_inverse=True)
            thresholds, threshold_index = np.unique(assessed.threshold[shown], return_inverse=True)
            flags = found.flags[shown]
            tenths = assessed.score_tenths[shown]
            rows.times(found.first_ms[shown], shown)
            rows.text(b'","last_reported_at":"', shown)
            rows.times(found.last_ms[shown], shown)
            rows.text(b'","report_count":', shown)
            rows.integers(found.report_count[shown], shown)
            rows.text(b',"reporter_count":', shown)
            rows.integers(found.reporter_count[shown], shown)
            rows.text(b',"categories":', shown)
            rows.pick([orjson.dumps(categories_from_mask(int(m))) for m in distinct_masks], mask_index, shown)
            rows.pick(_SCORE_TEXTS, np.clip(tenths, 0, 1000), shown)
            # threshold, decayed and the three flags together: a batch has few distinct combinations
            state = (threshold_index * 2 + assessed.decayed[shown]) * 8 + (flags & 7)
            states, state_index = np.unique(state, return_inverse=True)
            rows.pick([_state_text(float(thresholds[k >> 4]), k) for k in states.tolist()], state_index, shown)
            rows.text(b"}", shown)
        screen = self.screen
        if screen is None:
            rows.text(b',"never_list":null,"member_list":null}')
        else:
            never = [b"null", *(orjson.dumps(view) for view in screen.protections)]
            tails = [
                b',"never_list":' + text + b',"member_list":' + member + b"}"
                for text in never
                for member in (b"null", b'"allow"', b'"deny"')
            ]
            rows.pick(tails, (screen.protection.astype(np.intp) + 1) * 3 + screen.member_list)
        numbers = self.numbers.tolist()
        for i in self.errors:
            rows.replace(i, orjson.dumps(self._answer(i, numbers[i])))
        return b'{"results":[' + rows.join() + b"]}"


def lookup_batch(
    registry: RegistryService,
    raws: Sequence[object],
    region: str | None,
    options: LookupOptions = DEFAULT_OPTIONS,
    screen: Callable[[npt.NDArray[np.int64]], Screen] | None = None,
) -> BatchAnswer:
    """Normalise, look up and describe every input (unusable inputs get their error, the rest still answer)."""
    numbers, errors = normalise_many(raws, region)
    found = registry.lookup_many(numbers)
    now = registry.clock.now_ms()
    assessed = assess_many(registry.scorer, found, now, options)
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
    screened = None if screen is None else screen(numbers)
    return BatchAnswer(numbers, errors, found, index, infos, assessed, options, registry.scorer, now, screened)
