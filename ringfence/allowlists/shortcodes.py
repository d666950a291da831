"""Numbers the numbering plan itself protects: emergency numbers and network short codes that survive normalisation.

phonenumbers' short-number metadata describes, per region, the numbers dialled without an area code: emergency
numbers (``112``, ``10111`` in ZA), carrier-specific short codes (voicemail, operator services) and toll-free
service numbers (``116 117``). Most are too short to pass :func:`ringfence.numbers.normalise`, which needs a length
the country's full numbers have; a few do (``+27 10111``, the South African police, is a possible ZA number), and a
report against one of them is a mistake or an attack. For a number whose national significant number (NSN, the
digits after the country code) has such a length, this module answers, exactly as phonenumbers would for some
region of its country code:

* ``emergency``: ``shortnumberinfo.is_emergency_number(nsn, region)``;
* ``short_code``: a valid short number for the region (``is_valid_short_number_for_region``) that is
  carrier-specific (``is_carrier_specific_for_region``);
* ``service``: a valid short number whose expected cost (``expected_cost_for_region``) is toll-free.

Emergency numbers win over everything; otherwise the regions are tried in phonenumbers' order. Short codes and
service numbers are protected only when the number is not also a valid full number (``info(number).valid``): a
subscriber's number that happens to look like a short code stays reportable; only an explicit never-list entry
protects it. Premium-rate and standard-rate short codes are never protected: they are where fraud pays.

Like :mod:`ringfence.numbers.plan`, the patterns of every region of a country code are compiled into one digit DFA
and the answer is resolved once per (DFA state, NSN length) at compile time by replaying phonenumbers' decision, so
a lookup is one table step per digit, in plain Python for one number and with numpy for a batch. Plans are compiled
lazily, and only for the country codes and NSN lengths where an answer is possible at all (:func:`candidates`):
for every other number the batch path costs two array lookups.
"""

from __future__ import annotations

import re._parser as sre_parse  # type: ignore[import-not-found]  # typeshed has no stub for it
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from phonenumbers.phonemetadata import PhoneMetadata
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

from ringfence.allowlists.models import EntryKind
from ringfence.numbers import info
from ringfence.numbers.automaton import PatternSpec, determinise
from ringfence.numbers.lookup import POW10, info_many, split_country_code
from ringfence.numbers.plan import MAX_DIGITS, NSN_LENGTHS, metadata_for

__all__ = ["KINDS", "candidates", "short_kind", "short_kinds", "tables"]

#: Codes of :func:`short_kinds` (0: not protected by the numbering plan).
KINDS: tuple[EntryKind | None, ...] = (None, EntryKind.EMERGENCY, EntryKind.SHORT_CODE, EntryKind.SERVICE)
_NONE, _EMERGENCY, _SHORT_CODE, _SERVICE = range(4)
_MAX_NSN = 17  # phonenumbers' longest NSN
# The short-number descriptions whose patterns decide, in the order of their bits within a region.
_DESCS = ("general_desc", "short_code", "emergency", "carrier_specific", "premium_rate", "standard_rate", "toll_free")


def _widths(pattern: str) -> range:
    """The lengths a pattern can fully match (its shortest to longest width, capped at the longest NSN)."""
    low, high = sre_parse.parse(pattern).getwidth()
    return range(low, min(high, _MAX_NSN) + 1)


def _lengths(desc: Any) -> set[int]:
    """The NSN lengths a description may match: its possible lengths, or its pattern's widths when it lists none."""
    if desc is None or not desc.national_number_pattern:
        return set()
    return set(desc.possible_length) or set(_widths(desc.national_number_pattern))


def _candidate_lengths(cc: int) -> set[int]:
    """NSN lengths of ``cc`` that full numbers may have and a short-number answer may need."""
    regions = COUNTRY_CODE_TO_REGION_CODE[cc]
    full: set[int] = set()
    for region in regions:
        md = metadata_for(cc, region)
        if md is not None:
            full |= set(md.general_desc.possible_length)
    short: set[int] = set()
    for region in regions:
        smd = PhoneMetadata.short_metadata_for_region(region)
        if smd is None:
            continue
        if smd.emergency is not None and smd.emergency.national_number_pattern:
            short |= set(_widths(smd.emergency.national_number_pattern))  # matched without a length check
        short |= _lengths(smd.general_desc)
    return full & short


@dataclass(frozen=True, slots=True)
class _Plan:
    """One country code: ``trans[state][digit]`` (state 0 starts) and ``kinds[state][nsn_len]``, and numpy twins."""

    trans: list[list[int]]
    kinds: list[list[int]]
    trans_np: npt.NDArray[np.int32]  # flat: state * 10 + digit
    kinds_np: npt.NDArray[np.int8]  # flat: state * NSN_LENGTHS + nsn_len


class _Resolver:
    """Replays phonenumbers' short-number decisions on the bitmask of the patterns that fully match an NSN."""

    def __init__(self, cc: int) -> None:
        self.regions = [(r, PhoneMetadata.short_metadata_for_region(r)) for r in COUNTRY_CODE_TO_REGION_CODE[cc]]
        self.present = [k for k, (_region, smd) in enumerate(self.regions) if smd is not None]
        self.specs: list[PatternSpec] = []
        self.bit: dict[tuple[int, str], int] = {}
        for k in self.present:
            smd = self.regions[k][1]
            for name in _DESCS:
                desc = getattr(smd, name)
                if desc is not None and desc.national_number_pattern:
                    self.bit[k, name] = len(self.specs)
                    self.specs.append(PatternSpec(desc.national_number_pattern, len(self.specs)))

    def _matches(self, k: int, name: str, mask: int, length: int) -> bool:
        """``_matches_possible_number_and_national_number``: possible lengths (when listed), then the pattern."""
        desc = getattr(self.regions[k][1], name)
        if desc is None:
            return False
        if len(desc.possible_length) > 0 and length not in desc.possible_length:
            return False
        bit = self.bit.get((k, name))
        return bit is not None and bool(mask >> bit & 1)

    def _emergency(self, k: int, mask: int) -> bool:
        """``is_emergency_number``: the emergency pattern alone, no length check."""
        bit = self.bit.get((k, "emergency"))
        return bit is not None and bool(mask >> bit & 1)

    def _toll_free(self, k: int, mask: int, length: int) -> bool:
        """``expected_cost_for_region(...) == TOLL_FREE`` (emergency numbers were answered before)."""
        general = getattr(self.regions[k][1], "general_desc", None)
        if general is None or length not in general.possible_length:
            return False
        if self._matches(k, "premium_rate", mask, length) or self._matches(k, "standard_rate", mask, length):
            return False
        return self._matches(k, "toll_free", mask, length)

    def kind(self, mask: int, length: int) -> int:
        if any(self._emergency(k, mask) for k in self.present):
            return _EMERGENCY
        for k in self.present:
            valid = self._matches(k, "general_desc", mask, length) and self._matches(k, "short_code", mask, length)
            if not valid:
                continue
            if self._matches(k, "carrier_specific", mask, length):
                return _SHORT_CODE
            if self._toll_free(k, mask, length):
                return _SERVICE
        return _NONE


def _compile(cc: int, lengths: set[int]) -> _Plan:
    """The plan of ``cc``, answering for NSNs of ``lengths`` only (every other length answers none)."""
    resolver = _Resolver(cc)
    dfa = determinise(resolver.specs)
    kinds = [[resolver.kind(mask, n) if n in lengths else _NONE for n in range(NSN_LENGTHS)] for mask in dfa.masks]
    return _Plan(dfa.trans, kinds, np.array(dfa.trans, np.int32).ravel(), np.array(kinds, np.int8).ravel())


def _answering(plan: _Plan, length: int) -> bool:
    """Does some NSN of ``length`` digits get an answer from ``plan``? (the states reachable in that many steps)"""
    states = {0}
    for _ in range(length):
        states = {plan.trans[state][digit] for state in states for digit in range(10)}
    return any(plan.kinds[state][length] for state in states)


@dataclass(frozen=True, slots=True)
class _Tables:
    """The plans, the (country code, NSN length) pairs that can answer, and those pairs as number intervals:
    ``[cc * 10**len, (cc + 1) * 10**len)`` are disjoint, so one ``searchsorted`` over their sorted bounds finds the
    numbers worth walking (odd position: inside an interval)."""

    plans: dict[int, _Plan]
    pairs: frozenset[tuple[int, int]]
    bounds: npt.NDArray[np.int64]


_tables: _Tables | None = None
_lock = threading.Lock()


def _build() -> _Tables:
    plans: dict[int, _Plan] = {}
    pairs: set[tuple[int, int]] = set()
    for cc in sorted(COUNTRY_CODE_TO_REGION_CODE):
        lengths = {n for n in _candidate_lengths(cc) if n < NSN_LENGTHS and len(str(cc)) + n <= MAX_DIGITS}
        if not lengths:
            continue
        plan = _compile(cc, lengths)
        kept = {n for n in lengths if _answering(plan, n)}
        if kept:
            plans[cc] = plan if kept == lengths else _compile(cc, kept)
            pairs |= {(cc, n) for n in kept}
    edges = sorted(edge for cc, n in pairs for edge in (cc * 10**n, (cc + 1) * 10**n))
    return _Tables(plans, frozenset(pairs), np.array(edges, np.int64))


def tables() -> _Tables:
    """The compiled tables (built on first use, in under a second, then cached for the life of the process)."""
    global _tables
    built = _tables
    if built is None:
        with _lock:
            built = _tables
            if built is None:
                built = _tables = _build()
    return built


def candidates() -> frozenset[tuple[int, int]]:
    """The (country code, NSN length) pairs for which some number is protected by the numbering plan."""
    return tables().pairs


def short_kind(number: int) -> EntryKind | None:
    """What the numbering plan says ``number`` (E.164 digits) is: emergency, short_code, service, or None."""
    if not 0 < number < 10**MAX_DIGITS:
        return None
    built = tables()
    digits = str(number)
    for size in (1, 2, 3):  # phonenumbers' rule: the first 1-, 2- or 3-digit prefix that is a country code
        cc = int(digits[:size])
        if cc in COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return None
    nsn = digits[size:]
    if (cc, len(nsn)) not in built.pairs:
        return None
    plan = built.plans[cc]
    trans = plan.trans
    state = 0
    for ch in nsn:
        state = trans[state][ord(ch) - 48]
    code = plan.kinds[state][len(nsn)]
    if code in (_SHORT_CODE, _SERVICE) and info(number).valid:
        return None
    return KINDS[code]


def short_kinds(numbers: npt.NDArray[np.int64]) -> npt.NDArray[np.int8]:
    """:func:`short_kind` of every number, as codes into :data:`KINDS` (0: none)."""
    out = np.zeros(numbers.shape[0], np.int8)
    built = tables()
    if numbers.shape[0] == 0 or built.bounds.shape[0] == 0:
        return out
    where = np.flatnonzero(np.searchsorted(built.bounds, numbers, side="right") & 1)
    if where.shape[0] == 0:
        return out
    work = numbers[where]
    cc, ndig = split_country_code(work)
    lengths = ndig - np.searchsorted(POW10, cc, side="right")
    for code in np.unique(cc):
        rows = np.flatnonzero(cc == code)
        plan = built.plans[int(code)]
        size = lengths[rows]
        nsn = work[rows] % POW10[size]
        state = np.zeros(rows.shape[0], np.int64)
        for position in range(int(size.max())):
            digit = nsn // POW10[np.maximum(size - 1 - position, 0)] % 10
            state = np.where(position < size, plan.trans_np[state * 10 + digit], state)
        out[where[rows]] = plan.kinds_np[state * NSN_LENGTHS + size]
    check = np.flatnonzero((out == _SHORT_CODE) | (out == _SERVICE))
    if check.shape[0]:
        _region, _type, valid = info_many(numbers[check])
        out[check[valid]] = _NONE
    return out
