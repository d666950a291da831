"""Phone numbers for simulated traffic: random numbers, and blocks of consecutive ones, that the numbering plan allows.

A simulator that dials made-up digits would exercise the ``invalid_destination`` rule everywhere and make every
other figure meaningless, so every number drawn here is valid for its country as phonenumbers says, of one number
type (the type of phonenumbers' example number for the country and kind: a mobile, a fixed line, a premium-rate
number), and survives :func:`ringfence.numbers.normalise_many` unchanged.

Numbers are drawn by rejection: the example number keeps its leading digits and the rest are drawn at random, and
the candidates the plan refuses are drawn again. How many leading digits to keep is settled once per (country,
kind) from a fixed sample, independent of the caller's seed, as the fewest that still accept a fair share of
candidates (so numbers spread over the whole numbering space, not one block of it). Validity is decided in
batches by the digit automata of :mod:`ringfence.numbers` (:func:`~ringfence.numbers.info_many`), millions a
second, so drawing never loops in Python per number.

A **block** is what an IRSF range is: the numbers sharing all but their last few digits (``+371901234??``), of
which the valid ones are its members.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Final

import numpy as np
import numpy.typing as npt
import phonenumbers
from phonenumbers import PhoneNumberType

from ringfence.errors import InvalidInput
from ringfence.numbers import NUMBER_TYPES, REGIONS, info, info_many, normalise_many

__all__ = ["Block", "Kind", "draw_block", "draw_numbers", "e164_texts"]

I64 = npt.NDArray[np.int64]

_MIN_ACCEPT: Final = 0.2  # the least share of candidates a (country, kind) draw must accept
_MAX_ROUNDS: Final = 200
_NONE: Final = np.empty(0, np.int64)


class Kind(StrEnum):
    """What sort of number to draw; the type is the one of phonenumbers' example number of that kind."""

    MOBILE = "mobile"
    FIXED = "fixed"
    PREMIUM = "premium"


_PN_TYPE: Final = {
    Kind.MOBILE: PhoneNumberType.MOBILE,
    Kind.FIXED: PhoneNumberType.FIXED_LINE,
    Kind.PREMIUM: PhoneNumberType.PREMIUM_RATE,
}


@dataclass(frozen=True, slots=True)
class _Space:
    """How to draw numbers of one (country, kind): keep ``head`` (the example's leading digits) and draw ``free``
    digits after it; valid candidates are of type code ``type_code`` and region ``region_code`` (indexes into
    :data:`~ringfence.numbers.NUMBER_TYPES` and :data:`~ringfence.numbers.REGIONS`: +44 is Jersey's too)."""

    head: int
    free: int
    type_code: int
    region_code: int


def _example(country: str, kind: Kind) -> int:
    """The E.164 digits of phonenumbers' example number for ``country`` (a region, or a non-geographic country
    code such as ``882``) and ``kind``; an unknown country or a kind the country has no example of is refused."""
    if country.isdigit():
        example = phonenumbers.example_number_for_non_geo_entity(int(country))
    elif country in phonenumbers.SUPPORTED_REGIONS:
        example = phonenumbers.example_number_for_type(country, _PN_TYPE[kind])
    else:
        example = None
    if example is None:
        raise InvalidInput(
            f"no {kind.value} numbers to simulate for {country!r}: phonenumbers has no example of one",
            code="unknown_numbering",
            details={"country": country, "kind": kind.value},
        )
    return int(f"{example.country_code}{example.national_number}")


def _valid(candidates: I64, space: _Space) -> npt.NDArray[np.bool_]:
    """Candidates the plan allows, of the wanted region and type, whose ``+`` text normalises back to themselves."""
    region, ntype, valid = info_many(candidates)
    ok: npt.NDArray[np.bool_] = valid & (ntype == space.type_code) & (region == space.region_code)
    if ok.any():
        values, _errors = normalise_many(e164_texts(candidates[ok]))
        ok[np.flatnonzero(ok)] = values == candidates[ok]
    return ok


@cache
def _space(country: str, kind: Kind) -> _Space:
    example = _example(country, kind)
    type_code = NUMBER_TYPES.index(info(example).type)
    region_code = REGIONS.index("001" if country.isdigit() else country)
    digits = str(example)
    cc_len = len(str(phonenumbers.country_code_for_region(country))) if not country.isdigit() else len(country)
    sample = np.random.default_rng(0)
    for free in range(len(digits) - cc_len - 1, 1, -1):
        head = example // 10**free
        candidates = head * 10**free + sample.integers(0, 10**free, 1000, dtype=np.int64)
        space = _Space(head, free, type_code, region_code)
        if _valid(candidates, space).mean() >= _MIN_ACCEPT:
            return space
    return _Space(example // 100, 2, type_code, region_code)


def draw_numbers(rng: np.random.Generator, country: str, kind: Kind, count: int, *, distinct: bool = True) -> I64:
    """``count`` valid numbers of ``country`` and ``kind`` (distinct unless told), in random order."""
    space = _space(country, kind)
    if distinct and count > 10**space.free // 2:
        raise InvalidInput(
            f"cannot draw {count} distinct {kind.value} numbers for {country}: its space is too small",
            code="too_many_numbers",
            details={"country": country, "kind": kind.value, "count": count},
        )
    found = np.empty(0, np.int64)
    for _round in range(_MAX_ROUNDS):
        if found.shape[0] >= count:
            break
        want = count - found.shape[0]
        candidates = space.head * 10**space.free + rng.integers(0, 10**space.free, want * 2 + 16, dtype=np.int64)
        good = candidates[_valid(candidates, space)]
        found = np.concatenate([found, good])
        if distinct:
            _values, first = np.unique(found, return_index=True)
            found = found[np.sort(first)]
    if found.shape[0] < count:  # pragma: no cover - the acceptance share makes this astronomically unlikely
        raise InvalidInput(f"could not draw {count} {kind.value} numbers for {country}", code="too_many_numbers")
    return found[:count]


@dataclass(frozen=True, slots=True)
class Block:
    """The valid numbers sharing ``prefix`` and then ``free`` more digits: one rented range."""

    prefix: int
    free: int
    members: I64

    @property
    def pattern(self) -> str:
        """The block as a hotlist range: ``+371901234??``."""
        return f"+{self.prefix}{'?' * self.free}"

    def covers(self, numbers: I64) -> npt.NDArray[np.bool_]:
        covered: npt.NDArray[np.bool_] = numbers // 10**self.free == self.prefix
        return covered

    def overlaps(self, other: Block) -> bool:
        """True when some number is in both blocks."""
        wide, narrow = (self, other) if self.free >= other.free else (other, self)
        return bool(narrow.prefix // 10 ** (wide.free - narrow.free) == wide.prefix)


def draw_block(
    rng: np.random.Generator, country: str, kind: Kind, free: int, *, avoid: tuple[Block, ...] = ()
) -> Block:
    """A block of ``free`` trailing digits around a random valid number, at least half of it valid, that is none
    of ``avoid``."""
    for _round in range(_MAX_ROUNDS):
        seed = int(draw_numbers(rng, country, kind, 1)[0])
        prefix = seed // 10**free
        if any(Block(prefix, free, _NONE).overlaps(b) for b in avoid):
            continue
        candidates = prefix * 10**free + np.arange(10**free, dtype=np.int64)
        members = candidates[_valid(candidates, _space(country, kind))]
        if members.shape[0] * 2 >= candidates.shape[0]:
            return Block(prefix, free, members)
    raise InvalidInput(  # pragma: no cover - every country simulated has whole valid blocks
        f"no block of {free} digits of {kind.value} numbers found for {country}", code="unknown_numbering"
    )


def e164_texts(numbers: I64) -> list[str]:
    """``+`` and the digits of each number."""
    return ["+" + s for s in numbers.astype(str).tolist()]
