"""What the rules engine asks of hotlists: the most specific entry covering each number, and a text for an entry.

The engine does not depend on the hotlist service: it takes anything with :meth:`HotlistLookup.longest_many` and
:meth:`HotlistLookup.describe`. The service hands over its current matcher and entries (they are replaced as a
whole on every new version, so the streaming engine asks for the lookup again on every frame it is fed);
:class:`MatcherLookup` wraps a bare :class:`~ringfence.hotlists.matcher.RangeMatcher` for tests and benchmarks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from ringfence.hotlists.matcher import RangeMatcher
from ringfence.hotlists.patterns import Pattern, parse_pattern

__all__ = ["NO_HOTLISTS", "HotlistLookup", "MatcherLookup"]


class HotlistLookup(Protocol):
    def longest_many(self, numbers: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """The id of the most specific entry covering each number, -1 where none does."""
        ...

    def describe(self, entry_id: int) -> str:
        """A human text for an entry the lookup answered, e.g. ``+3725521?? (list vendor-a)``."""
        ...


class MatcherLookup:
    """A :class:`HotlistLookup` over a :class:`RangeMatcher`, with optional texts per entry id."""

    __slots__ = ("_matcher", "_names")

    def __init__(self, matcher: RangeMatcher, names: Mapping[int, str] | None = None) -> None:
        self._matcher = matcher
        self._names = dict(names or {})

    @classmethod
    def from_texts(cls, patterns: Sequence[str]) -> MatcherLookup:
        """A lookup over pattern texts (``+3725521??``, ``+88216*``, ``+3725521234``); entry ``i`` is
        ``patterns[i]``, described by its canonical text. A bad pattern raises
        :class:`~ringfence.errors.InvalidInput` (``invalid_pattern``) naming it."""
        parsed: list[Pattern] = [parse_pattern(text) for text in patterns]
        matcher = RangeMatcher.from_patterns(parsed, range(len(parsed)))
        return cls(matcher, {i: p.text for i, p in enumerate(parsed)})

    def longest_many(self, numbers: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        return self._matcher.longest_many(numbers)

    def describe(self, entry_id: int) -> str:
        return self._names.get(entry_id, f"entry {entry_id}")


class _Nothing:
    """The lookup of no hotlist at all: every number is uncovered."""

    def longest_many(self, numbers: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        return np.full(len(numbers), -1, dtype=np.int64)

    def describe(self, entry_id: int) -> str:
        return f"entry {entry_id}"


NO_HOTLISTS: HotlistLookup = _Nothing()
