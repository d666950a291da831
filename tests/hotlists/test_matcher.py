"""Hotlist patterns and the range matcher: what a pattern text means, and which entries cover a number, the most
specific first, the same from the batch and the scalar paths as from a naive scan of every entry."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringfence.errors import InvalidInput, InvalidNumber
from ringfence.hotlists.matcher import RangeMatcher
from ringfence.hotlists.patterns import Pattern, parse_pattern, pattern_for_number
from ringfence.numbers.plan import COUNTRY_CODES

Entry = tuple[int, int, int, int]  # prefix, prefix_len, length (0 = any), id
MAX_NUMBER = 10**15 - 1


# ---------------------------------------------------------------- the reference


def covers(entry: Entry, number: int) -> bool:
    prefix, prefix_len, length, _ = entry
    if not 0 < number <= MAX_NUMBER:
        return False
    text = str(number)
    return text[:prefix_len] == str(prefix) and (length == 0 or len(text) == length)


def naive_all(entries: list[Entry], number: int) -> list[int]:
    """Every covering entry's id: longer prefix first, fixed length before any length, then smaller id."""
    hits = {(-e[1], e[2] == 0, e[3]) for e in entries if covers(e, number)}
    return [entry_id for *_, entry_id in sorted(hits)]


def naive_longest(entries: list[Entry], number: int) -> int:
    found = naive_all(entries, number)
    return found[0] if found else -1


def build(entries: list[Entry]) -> RangeMatcher:
    cols = np.array(entries, dtype=np.int64).reshape(-1, 4).T
    return RangeMatcher.build(cols[0], cols[1], cols[2], cols[3])


def assert_agrees(entries: list[Entry], numbers: list[int]) -> None:
    """The scalar and batch answers of a matcher over ``entries`` equal the naive ones, for every number."""
    matcher = build(entries)
    want = [naive_all(entries, n) for n in numbers]
    assert [matcher.all(n) for n in numbers] == want
    assert [matcher.longest(n) for n in numbers] == [w[0] if w else -1 for w in want]
    batch = np.array(numbers, dtype=np.int64)
    assert matcher.longest_many(batch).tolist() == [w[0] if w else -1 for w in want]
    offsets, ids = matcher.all_many(batch)
    assert offsets.dtype == np.int64 and ids.dtype == np.int64 and len(offsets) == len(numbers) + 1
    assert [ids[offsets[i] : offsets[i + 1]].tolist() for i in range(len(numbers))] == want


def entry(text: str, entry_id: int) -> Entry:
    p = parse_pattern(text)
    return (p.prefix, p.prefix_len, p.length or 0, entry_id)


# ---------------------------------------------------------------- patterns


@pytest.mark.parametrize(
    ("text", "prefix", "prefix_len", "length", "canonical"),
    [
        ("+3725521234", 3725521234, 10, 10, "+3725521234"),
        ("+88216*", 88216, 5, None, "+88216*"),
        ("+3725521??", 3725521, 7, 9, "+3725521??"),
        ("+88213xxxxxx", 88213, 5, 11, "+88213??????"),
        ("+88213XXxx#?", 88213, 5, 11, "+88213??????"),
        ("00 372 5521 234", 3725521234, 10, 10, "+3725521234"),
        ("+372-5521-23.4", 3725521234, 10, 10, "+3725521234"),
        ("3725521234", 3725521234, 10, 10, "+3725521234"),
        ("  0088216 * ", 88216, 5, None, "+88216*"),
        ("+882*", 882, 3, None, "+882*"),
        ("+372 5521 ??", 3725521, 7, 9, "+3725521??"),
        ("+1 999 999 999 999 99", 199999999999999, 15, 15, "+199999999999999"),
    ],
)
def test_pattern_texts(text: str, prefix: int, prefix_len: int, length: int | None, canonical: str) -> None:
    pattern = parse_pattern(text)
    assert (pattern.prefix, pattern.prefix_len, pattern.length, pattern.text) == (prefix, prefix_len, length, canonical)
    assert parse_pattern(pattern.text) == pattern and str(pattern) == canonical
    assert pattern.is_number == (length == prefix_len)
    assert pattern.wildcards == (None if length is None else length - prefix_len)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("+", "no_digits"),
        ("*", "no_digits"),
        ("+???", "no_digits"),
        ("+37x5521", "wildcard_not_trailing"),
        ("+3725521?1", "wildcard_not_trailing"),
        ("+88216??*", "star_after_wildcard"),
        ("+882**", "bad_character"),
        ("+88(216)", "bad_character"),
        ("+88216a", "bad_character"),
        ("+٣٧٢٥٥٢١", "bad_character"),
        ("++3725521234", "bad_character"),
        ("03725521234", "leading_zero"),
        ("+03725521234", "leading_zero"),
        ("0003725521234", "leading_zero"),
        ("+1234567890123456", "too_long"),
        ("+12345678901234??", "too_long"),
        ("+999123456", "unknown_country_code"),
        ("+88*", "unknown_country_code"),
        ("+882", "too_short"),
        ("+372", "too_short"),
    ],
)
def test_refused_pattern_texts(text: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_pattern(text)
    assert caught.value.code == "invalid_pattern"
    assert caught.value.details == {"input": text, "reason": reason}
    assert repr(text) in caught.value.message


def test_a_pattern_must_be_text() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_pattern(3725521234)
    assert caught.value.details == {"input": "3725521234", "reason": "not_text"}


def test_patterns_derived_from_numbers() -> None:
    assert pattern_for_number(3725521234, 2) == Pattern(37255212, 8, 10)
    assert pattern_for_number(3725521234, 2).text == "+37255212??"
    assert pattern_for_number(3725521234, 0).text == "+3725521234"
    assert pattern_for_number(3725521234, 7).text == "+372???????"  # every national digit
    assert pattern_for_number(12015550123, 3).text == "+12015550???"
    with pytest.raises(InvalidInput) as caught:
        pattern_for_number(3725521234, 8)  # would wildcard into the country code
    assert caught.value.details["reason"] == "bad_wildcards"
    for bad in (-1, True, 2.0):
        with pytest.raises(InvalidInput):
            pattern_for_number(3725521234, bad)  # type: ignore[arg-type]
    for number, reason in [(0, "not_a_number"), (10**15, "not_a_number"), (999123, "invalid_country_code")]:
        with pytest.raises(InvalidNumber) as refused:
            pattern_for_number(number, 1)
        assert refused.value.reason == reason
    with pytest.raises(InvalidNumber) as refused:
        pattern_for_number(372, 0)
    assert refused.value.reason == "too_short"


def test_pattern_fields_must_agree() -> None:
    for prefix, prefix_len, length in [(37, 3, None), (372, 3, 2), (372, 3, 16), (1, 0, None), (10**15, 16, None)]:
        with pytest.raises(InvalidInput):
            Pattern(prefix, prefix_len, length)
    with pytest.raises(InvalidInput):
        Pattern("372", 3, None)  # type: ignore[arg-type]


def test_pattern_covers() -> None:
    assert parse_pattern("+3725521??").covers(372552123)
    assert not parse_pattern("+3725521??").covers(3725521234)  # one digit too many
    assert not parse_pattern("+3725521??").covers(37255212)
    assert parse_pattern("+88216*").covers(88216) and parse_pattern("+88216*").covers(882161234567890)
    assert not parse_pattern("+88216*").covers(8821) and not parse_pattern("+88216*").covers(0)
    assert not parse_pattern("+3725521234").covers(True)  # a bool is no number


national = st.text(alphabet="0123456789", min_size=0, max_size=12)
spelling = st.sampled_from(["+", "00", ""])
separator = st.sampled_from(["", " ", "-", ".", "  "])


@settings(max_examples=400, deadline=None)
@given(
    cc=st.sampled_from(sorted(COUNTRY_CODES)),
    digits=national,
    kind=st.sampled_from(["number", "prefix", "wildcards"]),
    wildcards=st.lists(st.sampled_from("xX?#"), min_size=1, max_size=6),
    lead=spelling,
    sep=separator,
    data=st.data(),
)
def test_any_spelling_of_a_valid_pattern_parses_to_it(
    cc: int, digits: str, kind: str, wildcards: list[str], lead: str, sep: str, data: st.DataObject
) -> None:
    body = f"{cc}{digits}"
    tail = {"number": "", "prefix": "*", "wildcards": "".join(wildcards)}[kind]
    length = None if kind == "prefix" else len(body) + len(tail)
    if (length or len(body)) > 15 or (kind == "number" and not digits):
        return
    cuts = sorted(data.draw(st.lists(st.integers(0, len(body)), max_size=3)))
    spaced = sep.join(body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True))
    pattern = parse_pattern(f"{lead}{spaced}{sep}{tail}")
    assert pattern == Pattern(int(body), len(body), length)
    assert parse_pattern(pattern.text) == pattern


@settings(max_examples=400, deadline=None)
@given(raw=st.text(alphabet="+0123456789 -.*xX?#a()", max_size=20))
def test_junk_is_refused_or_round_trips(raw: str) -> None:
    try:
        pattern = parse_pattern(raw)
    except InvalidInput as exc:
        assert exc.code == "invalid_pattern" and exc.details["input"] == raw
    else:
        assert parse_pattern(pattern.text) == pattern
        assert len(pattern.text) - 1 == (pattern.length or pattern.prefix_len + 1)


@settings(max_examples=300, deadline=None)
@given(number=st.integers(1, MAX_NUMBER), wildcards=st.integers(0, 14))
def test_derived_patterns_cover_their_number_and_round_trip(number: int, wildcards: int) -> None:
    try:
        pattern = pattern_for_number(number, wildcards)
    except InvalidInput:
        return
    assert pattern.covers(number) and pattern.wildcards == wildcards
    assert parse_pattern(pattern.text) == pattern


# ---------------------------------------------------------------- the matcher: examples


def test_most_specific_first() -> None:
    entries = [
        entry("+3725521234", 1),
        entry("+37255212??", 2),  # derived: the test number's last two digits wildcarded
        entry("+372552*", 3),
        entry("+3725521???", 4),
        entry("+3725521*", 5),  # same prefix as 4, any length: after it
        (37, 2, 0, 6),  # shorter than a country code: build() takes any prefix
    ]
    matcher = build(entries)
    assert matcher.all(3725521234) == [1, 2, 4, 5, 3, 6]
    assert matcher.longest(3725521234) == 1
    assert matcher.all(3725521299) == [2, 4, 5, 3, 6]
    assert matcher.all(3725521999) == [4, 5, 3, 6]
    assert matcher.all(37255219999) == [5, 3, 6]  # 11 digits: no fixed-length entry of 10
    assert matcher.all(372552) == [3, 6] and matcher.all(37255) == [6] and matcher.all(3) == []
    assert matcher.all(4420794600) == [] and matcher.longest(4420794600) == -1
    numbers = [3725521234, 3725521299, 3725521999, 37255219999, 372552, 37255, 3, 4420794600]
    assert_agrees(entries, numbers)


def test_an_exact_entry_beats_a_prefix_of_the_same_digits() -> None:
    entries = [(3725521234, 10, 0, 7), (3725521234, 10, 10, 8)]
    assert build(entries).all(3725521234) == [8, 7]
    assert build(entries).all(37255212345) == [7]
    assert_agrees(entries, [3725521234, 37255212345, 372552123])


def test_a_pattern_under_several_ids_answers_all_of_them_smallest_first() -> None:
    entries = [(88216, 5, 0, 30), (88216, 5, 0, 10), (88216, 5, 0, 20), (88216, 5, 0, 10), (882161, 6, 12, 40)]
    matcher = build(entries)
    assert len(matcher) == 4  # the repeated (pattern, id) counts once
    assert matcher.all(882161234567) == [40, 10, 20, 30] and matcher.longest(88216) == 10
    assert_agrees(entries, [88216, 882161234567, 88216123456, 8821])


def test_fifteen_digit_numbers_and_what_is_no_number() -> None:
    top = MAX_NUMBER
    entries = [(top, 15, 15, 1), (9, 1, 0, 2), (99999999999999, 14, 15, 3), (1, 1, 0, 4), (123, 3, 15, 5)]
    numbers = [top, top - 1, 10**14, 10**15, 10**16, 2**63 - 1, 0, -1, -top, 9, 1, 123456789012345, 12345678901234]
    assert_agrees(entries, numbers)
    matcher = build(entries)
    assert matcher.all(top) == [1, 3, 2]
    assert matcher.all(10**15) == [] and matcher.longest_many(np.array([10**15, 0, -5])).tolist() == [-1, -1, -1]
    unsigned = np.array([2**64 - 1, top, 2**63], dtype=np.uint64)
    assert matcher.longest_many(unsigned).tolist() == [-1, 1, -1]
    offsets, ids = matcher.all_many(unsigned)
    assert offsets.tolist() == [0, 0, 3, 3] and ids.tolist() == [1, 3, 2]


def test_the_empty_matcher_covers_nothing() -> None:
    for matcher in (RangeMatcher.empty(), build([]), RangeMatcher.from_patterns([], [])):
        assert len(matcher) == 0
        numbers = np.array([3725521234, 1, MAX_NUMBER, 0], dtype=np.int64)
        assert matcher.longest_many(numbers).tolist() == [-1] * 4
        offsets, ids = matcher.all_many(numbers)
        assert offsets.tolist() == [0] * 5 and ids.tolist() == []
        assert matcher.longest(3725521234) == -1 and matcher.all(3725521234) == []
        assert matcher.longest_many(np.zeros(0, np.int64)).tolist() == []
        assert matcher.all_many([])[0].tolist() == [0]


def test_an_empty_batch_and_lists() -> None:
    matcher = build([entry("+88216*", 1)])
    assert matcher.longest_many(np.zeros(0, np.int64)).shape == (0,)
    offsets, ids = matcher.all_many(np.zeros(0, np.int64))
    assert offsets.tolist() == [0] and ids.tolist() == []
    assert matcher.longest_many([882161, 1]).tolist() == [1, -1]
    assert matcher.longest_many(np.array([882161], dtype=np.int32)).tolist() == [1]


def test_from_patterns_is_build() -> None:
    texts = ["+3725521234", "+37255212??", "+88216*", "+88213xxxxxx"]
    matcher = RangeMatcher.from_patterns([parse_pattern(t) for t in texts], [4, 3, 2, 1])
    assert matcher.all(3725521234) == [4, 3] and matcher.all(88213123456) == [1] and matcher.all(882161) == [2]
    with pytest.raises(ValueError):
        RangeMatcher.from_patterns([parse_pattern("+88216*")], [1, 2])


def test_the_matcher_keeps_no_reference_to_its_inputs() -> None:
    prefixes = np.array([3725521234, 88216], dtype=np.int64)
    prefix_lens, lengths, ids = np.array([10, 5]), np.array([10, 0]), np.array([1, 2])
    matcher = RangeMatcher.build(prefixes, prefix_lens, lengths, ids)
    prefixes[:] = 44
    ids[:] = 9
    assert matcher.all(3725521234) == [1] and matcher.all(882160) == [2]


@pytest.mark.parametrize(
    ("columns", "field"),
    [
        (([372], [3], [0], [1, 2]), "prefixes"),
        (([372], [2], [0], [1]), "prefixes"),  # not 2 digits
        (([37], [3], [0], [1]), "prefixes"),
        (([0], [1], [0], [1]), "prefixes"),
        (([10**15], [15], [0], [1]), "prefixes"),
        (([372], [16], [0], [1]), "prefix_lens"),
        (([372], [0], [0], [1]), "prefix_lens"),
        (([372], [3], [2], [1]), "lengths"),
        (([372], [3], [16], [1]), "lengths"),
        (([372], [3], [0], [-1]), "ids"),  # -1 is "no entry"
        (([372.0], [3], [0], [1]), "prefixes"),
        (([[372]], [3], [0], [1]), "prefixes"),
    ],
)
def test_bad_entries_are_refused(columns: tuple[list[Any], list[Any], list[Any], list[Any]], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        RangeMatcher.build(*columns)
    assert caught.value.code == "invalid_entries" and caught.value.details.get("field") == field


def test_bad_numbers_are_refused() -> None:
    matcher = build([entry("+88216*", 1)])
    for bad in (np.array([[882161]]), np.array([882161.0]), np.array([True])):
        with pytest.raises(InvalidInput):
            matcher.longest_many(bad)
        with pytest.raises(InvalidInput):
            matcher.all_many(bad)
    for one in ("882161", 882161.0, True, None):
        with pytest.raises(InvalidInput):
            matcher.longest(one)  # type: ignore[arg-type]
        with pytest.raises(InvalidInput):
            matcher.all(one)  # type: ignore[arg-type]
    assert matcher.longest(np.int64(882161)) == 1 and matcher.all(-882161) == []


# ---------------------------------------------------------------- the matcher against the naive scan


def clustered(stems: list[str], rng: np.random.Generator, count: int) -> list[Entry]:
    """Entries cut from a few digit stems, so that they nest and overlap as hotlist entries do."""
    out: list[Entry] = []
    for _ in range(count):
        stem = stems[int(rng.integers(len(stems)))]
        prefix_len = int(rng.integers(1, len(stem) + 1))
        kind = rng.random()
        length = 0 if kind < 0.3 else prefix_len if kind < 0.7 else int(rng.integers(prefix_len, 16))
        out.append((int(stem[:prefix_len]), prefix_len, length, int(rng.integers(0, count))))
    return out


def near(stems: list[str], rng: np.random.Generator, count: int) -> list[int]:
    """Numbers that start like the stems, cut or extended to 1-16 digits, and a few that are no number."""
    out = [0, -1, 10**15, MAX_NUMBER]
    for _ in range(count):
        stem = stems[int(rng.integers(len(stems)))]
        size = int(rng.integers(1, 17))
        text = (stem + "".join(str(d) for d in rng.integers(0, 10, 16)))[:size]
        out.append(int(text))
    return out


def test_thousands_of_clustered_entries_agree_with_the_naive_scan() -> None:
    rng = np.random.default_rng(7)
    stems = ["".join(str(d) for d in [rng.integers(1, 10), *rng.integers(0, 10, 14)]) for _ in range(40)]
    stems += ["372552123456789", "882160000000000", "999999999999999", "100000000000000"]
    entries = clustered(stems, rng, 3000)
    assert_agrees(entries, near(stems, rng, 1500))


stems_strategy = st.lists(st.text(alphabet="0123456789", min_size=15, max_size=15), min_size=1, max_size=4).map(
    lambda stems: [("1" if s[0] == "0" else s[0]) + s[1:] for s in stems]
)


@settings(max_examples=300, deadline=None)
@given(stems=stems_strategy, seed=st.integers(0, 2**32 - 1), count=st.integers(0, 40))
def test_random_entries_agree_with_the_naive_scan(stems: list[str], seed: int, count: int) -> None:
    rng = np.random.default_rng(seed)
    assert_agrees(clustered(stems, rng, count), near(stems, rng, 60))


@settings(max_examples=300, deadline=None)
@given(
    entries=st.lists(
        st.tuples(st.integers(1, 6), st.integers(0, 10**6), st.sampled_from([0, -1, 1, 2, 3]), st.integers(0, 5)),
        max_size=25,
    ),
    numbers=st.lists(st.integers(-10, 10**8), max_size=40),
)
def test_short_entries_and_numbers_agree_with_the_naive_scan(
    entries: list[tuple[int, int, int, int]], numbers: list[int]
) -> None:
    rows: list[Entry] = []
    for prefix_len, value, extra, entry_id in entries:
        prefix = 10 ** (prefix_len - 1) + value % (9 * 10 ** (prefix_len - 1))
        length = 0 if extra < 0 else prefix_len + extra
        rows.append((prefix, prefix_len, length, entry_id))
    numbers += [int(str(p) + "5" * k) for p, *_ in rows for k in (0, 1, 2)]  # every entry covers something
    assert_agrees(rows, numbers)
