"""The hotlist lookups the engine is given: a matcher with entry texts, and the lookup of no hotlist."""

from __future__ import annotations

import numpy as np
import pytest

from ringfence.errors import InvalidInput
from ringfence.rules.hotlist import NO_HOTLISTS, MatcherLookup


def test_a_lookup_from_texts_answers_the_most_specific_entry_and_describes_it() -> None:
    lookup = MatcherLookup.from_texts(["+37255*", "+3725521??", "+3725521234"])
    numbers = np.array([3725521234, 372552129, 3725599999, 447400123456, 0], dtype=np.int64)
    assert lookup.longest_many(numbers).tolist() == [2, 1, 0, -1, -1]
    assert [lookup.describe(i) for i in range(3)] == ["+37255*", "+3725521??", "+3725521234"]


def test_a_bad_pattern_is_refused_naming_it() -> None:
    with pytest.raises(InvalidInput) as caught:
        MatcherLookup.from_texts(["+37255*", "+37x"])
    assert caught.value.code == "invalid_pattern" and "+37x" in caught.value.message


def test_no_hotlists_covers_nothing() -> None:
    assert NO_HOTLISTS.longest_many(np.array([3725521234, 1], dtype=np.int64)).tolist() == [-1, -1]
