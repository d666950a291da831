"""The compiled numbering plan: one digit DFA per country calling code that answers ``info`` exactly.

For a country code ``cc`` shared by regions ``R1..Rk`` (``COUNTRY_CODE_TO_REGION_CODE[cc]``, in phonenumbers'
order) we collect every ``national_number_pattern`` of every region's ``general_desc``, ``premium_rate``,
``toll_free``, ``shared_cost``, ``voip``, ``personal_number``, ``pager``, ``uan``, ``voicemail``, ``fixed_line``
and ``mobile`` descriptions, plus each region's ``leading_digits`` (prefix semantics) when the code is shared,
and determinise them together (:mod:`ringfence.numbers.automaton`).  After walking the national significant
number (NSN: for E.164 input simply the digits after the country code, Italian leading zeros included) the
final state's bitmask tells which patterns fully match.  The answer is then a pure function of
``(bitmask, len(NSN))`` which we evaluate *once per distinct pair at compile time* by replaying phonenumbers'
own decision procedure (:func:`_classify` mirrors ``region_code_for_number`` /
``_region_code_for_number_from_list``, ``_number_type_helper`` and ``_is_number_matching_desc`` including the
``possible_length`` short-cut, and ``is_valid_number_for_region``).  The result is stored per DFA state and
NSN length, so looking a number up is one table step per digit and one final index: no regex at run time.

Plans are compiled lazily per country code and cached for the life of the process (all 215 codes compile in
well under a second; ``+1``/NANPA, the largest, in about 0.1 s).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from phonenumbers.phonemetadata import PhoneMetadata
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

from ringfence.numbers.automaton import PatternSpec, determinise
from ringfence.numbers.types import NUMBER_TYPES, NumberInfo, NumberType

__all__ = [
    "CC_BY_PREFIX",
    "COUNTRY_CODES",
    "MAX_DIGITS",
    "NSN_LENGTHS",
    "REGIONS",
    "REGION_INDEX",
    "InfoPlan",
    "compile_all",
    "info_plan",
    "metadata_for",
]

#: Every region code phonenumbers knows for a country calling code (``"001"`` = non-geographic), sorted.
REGIONS: tuple[str, ...] = tuple(sorted({r for regions in COUNTRY_CODE_TO_REGION_CODE.values() for r in regions}))
REGION_INDEX: dict[str, int] = {r: i for i, r in enumerate(REGIONS)}
COUNTRY_CODES: frozenset[int] = frozenset(COUNTRY_CODE_TO_REGION_CODE)
#: Country code lookup by its decimal spelling (country codes are prefix-free, 1-3 digits).
CC_BY_PREFIX: dict[str, int] = {str(cc): cc for cc in COUNTRY_CODES}
#: Longest E.164 digit string we handle: int64 holds 19 digits; phonenumbers allows ``cc`` + up to 17 NSN digits.
MAX_DIGITS = 19
#: Tables are indexed by NSN length 0..18.
NSN_LENGTHS = MAX_DIGITS

# Checked in exactly phonenumbers' _number_type_helper order (general_desc first, then these).
_SPECIFIC = (
    ("premium_rate", NumberType.PREMIUM_RATE),
    ("toll_free", NumberType.TOLL_FREE),
    ("shared_cost", NumberType.SHARED_COST),
    ("voip", NumberType.VOIP),
    ("personal_number", NumberType.PERSONAL_NUMBER),
    ("pager", NumberType.PAGER),
    ("uan", NumberType.UAN),
    ("voicemail", NumberType.VOICEMAIL),
)
_DESCS = ("general_desc", *(name for name, _ in _SPECIFIC), "fixed_line", "mobile")
_TYPE_CODE = {t: i for i, t in enumerate(NUMBER_TYPES)}


def metadata_for(cc: int, region: str) -> Any:
    """``PhoneMetadata`` phonenumbers itself uses for ``region`` of country code ``cc``."""
    return PhoneMetadata.metadata_for_region_or_calling_code(cc, region)


@dataclass(frozen=True, slots=True)
class InfoPlan:
    """Compiled plan of one country code.

    ``trans[state][digit]`` is the DFA (start state 0; ``byte_trans`` the same rows indexed by the ASCII code of
    the digit, so the hot loop needs no subtraction) and ``infos[state][nsn_len]`` the shared, immutable
    :class:`NumberInfo` answer; the ``*_np`` arrays are the same data for the vectorised path.
    """

    country_code: int
    trans: list[list[int]]
    byte_trans: list[list[int]]
    infos: list[list[NumberInfo]]
    trans_np: npt.NDArray[np.int32]
    region_np: npt.NDArray[np.int16]
    type_np: npt.NDArray[np.uint8]
    valid_np: npt.NDArray[np.bool_]


class _Classifier:
    """Replays phonenumbers' decision procedure on a bitmask of matching patterns."""

    def __init__(self, cc: int) -> None:
        self.cc = cc
        self.regions: tuple[str, ...] = tuple(COUNTRY_CODE_TO_REGION_CODE[cc])
        self.metadata = [metadata_for(cc, r) for r in self.regions]
        self.specs: list[PatternSpec] = []
        self.desc_bit: dict[tuple[int, str], int] = {}
        self.lead_bit: dict[int, int] = {}
        for k, md in enumerate(self.metadata):
            if md is None:
                continue
            if md.country_code != cc:  # pragma: no cover - guards the is_valid_number_for_region shortcut
                raise ValueError(f"metadata of {self.regions[k]} has country code {md.country_code}, not {cc}")
            for name in _DESCS:
                desc = getattr(md, name)
                if desc is not None and desc.national_number_pattern:
                    self.desc_bit[k, name] = len(self.specs)
                    self.specs.append(PatternSpec(desc.national_number_pattern, len(self.specs)))
            if len(self.regions) > 1 and md.leading_digits is not None:
                self.lead_bit[k] = len(self.specs)
                self.specs.append(PatternSpec(md.leading_digits, len(self.specs), prefix=True))
        self._cache: dict[tuple[int, int], NumberInfo] = {}

    def _matches(self, k: int, name: str, mask: int, length: int) -> bool:
        """``_is_number_matching_desc``: possible_length short-cut, then full pattern match."""
        desc = getattr(self.metadata[k], name)
        if desc is None:
            return False
        if len(desc.possible_length) > 0 and length not in desc.possible_length:
            return False
        bit = self.desc_bit.get((k, name))
        return bit is not None and bool(mask >> bit & 1)

    def _type(self, k: int, mask: int, length: int) -> NumberType:
        """``_number_type_helper``."""
        if not self._matches(k, "general_desc", mask, length):
            return NumberType.UNKNOWN
        for name, number_type in _SPECIFIC:
            if self._matches(k, name, mask, length):
                return number_type
        same = self.metadata[k].same_mobile_and_fixed_line_pattern
        if self._matches(k, "fixed_line", mask, length):
            if same or self._matches(k, "mobile", mask, length):
                return NumberType.FIXED_LINE_OR_MOBILE
            return NumberType.FIXED_LINE
        if not same and self._matches(k, "mobile", mask, length):
            return NumberType.MOBILE
        return NumberType.UNKNOWN

    def _region(self, mask: int, length: int) -> int | None:
        """``region_code_for_number`` / ``_region_code_for_number_from_list``."""
        if len(self.regions) == 1:
            return 0
        for k, md in enumerate(self.metadata):
            if md is None:
                continue
            if md.leading_digits is not None:
                if mask >> self.lead_bit[k] & 1:
                    return k
            elif self._type(k, mask, length) != NumberType.UNKNOWN:
                return k
        return None

    def info(self, mask: int, length: int) -> NumberInfo:
        key = (mask, length)
        cached = self._cache.get(key)
        if cached is None:
            k = self._region(mask, length)
            if k is None or self.metadata[k] is None:
                cached = NumberInfo(None, self.cc, NumberType.UNKNOWN, False)
            else:
                number_type = self._type(k, mask, length)
                cached = NumberInfo(self.regions[k], self.cc, number_type, number_type != NumberType.UNKNOWN)
            self._cache[key] = cached
        return cached


def _compile(cc: int) -> InfoPlan:
    classifier = _Classifier(cc)
    dfa = determinise(classifier.specs)
    infos = [[classifier.info(mask, n) for n in range(NSN_LENGTHS)] for mask in dfa.masks]
    region_np = np.array([[REGION_INDEX[i.country] if i.country else -1 for i in row] for row in infos], np.int16)
    type_np = np.array([[_TYPE_CODE[i.type] for i in row] for row in infos], np.uint8)
    valid_np = np.array([[i.valid for i in row] for row in infos], np.bool_)
    trans_np = np.array(dfa.trans, np.int32).reshape(-1, 10)
    return InfoPlan(cc, dfa.trans, [[0] * 48 + row for row in dfa.trans], infos, trans_np, region_np, type_np, valid_np)


_plans: dict[int, InfoPlan] = {}
_lock = threading.Lock()


def info_plan(cc: int) -> InfoPlan:
    """The compiled plan of ``cc`` (compiled on first use, then cached).  ``KeyError`` for unknown codes."""
    plan = _plans.get(cc)
    if plan is None:
        if cc not in COUNTRY_CODES:
            raise KeyError(cc)
        with _lock:
            plan = _plans.get(cc)
            if plan is None:
                plan = _compile(cc)
                _plans[cc] = plan
    return plan


def compile_all() -> None:
    """Compile every country code now (for warm-up and for measuring compile time)."""
    for cc in sorted(COUNTRY_CODES):
        info_plan(cc)
