from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringfence.numbers.automaton import PatternSpec, determinise

PATTERNS = [
    r"[2-9]\d{9}",
    r"(?:1[0-2]|[2-9]\d)\d{3,5}",
    r"7(?:[1-57-9]\d{8}|624\d{6})",
    r"0?(?:(11|2(?:2(?:02?|[13])))?15)?",
    r"(?:[15]|2[0-3]?)\d{0,2}",
    r"",
]


def _walk(spec_pattern: str, text: str, *, prefix: bool = False) -> bool:
    dfa = determinise([PatternSpec(spec_pattern, 0, prefix=prefix)])
    state = 0
    for ch in text:
        state = dfa.trans[state][int(ch)]
    return bool(dfa.masks[state] & 1)


@settings(max_examples=300, deadline=None)
@given(pattern=st.sampled_from(PATTERNS), text=st.text(alphabet="0123456789", max_size=12))
def test_full_and_prefix_match_like_re(pattern: str, text: str) -> None:
    assert _walk(pattern, text) == bool(re.fullmatch(pattern, text))
    assert _walk(pattern, text, prefix=True) == bool(re.match(pattern, text))


def test_end_anchor() -> None:
    dfa = determinise([PatternSpec(r"([59]\d{2})$|0", 0, prefix=True, end_anchor_id=1)])

    def masks(text: str) -> int:
        state = 0
        for ch in text:
            state = dfa.trans[state][int(ch)]
        return dfa.masks[state]

    assert masks("512") == 2
    assert masks("5123") == 0
    assert masks("0123") & 1


def test_rejects_unsupported() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        determinise([PatternSpec(r"1.", 0)])
    with pytest.raises(ValueError, match="non-digit"):
        determinise([PatternSpec(r"12a", 0)])
