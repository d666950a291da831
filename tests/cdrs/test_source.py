"""The line feed: complete lines out of bytes in any chunking, gzip (several members), UTF-16, over-long lines."""

from __future__ import annotations

import gzip

from hypothesis import given, settings
from hypothesis import strategies as st

from ringfence.cdrs.source import LineFeed


def feed_all(data: bytes, cuts: list[int], max_line_bytes: int = 100) -> tuple[bytes, dict[int, bytes], list[str]]:
    feed = LineFeed(max_line_bytes)
    out = []
    pos = 0
    for cut in sorted(set(cuts)):
        out.append(feed.push(data[pos:cut]))
        pos = cut
    out.append(feed.push(data[pos:]))
    out.append(feed.finish())
    return b"".join(out), feed.long_lines, [p.reason for p in feed.problems]


lines_st = st.lists(st.text(alphabet='ab,"é\r', max_size=150), min_size=1, max_size=15)


@settings(max_examples=200, deadline=None)
@given(lines_st, st.lists(st.integers(0, 3000), max_size=8), st.booleans(), st.booleans())
def test_any_chunking_gives_the_same_lines(lines: list[str], cuts: list[int], gz: bool, end: bool) -> None:
    text = "\n".join(lines) + ("\n" if end else "")
    data = text.encode()
    data = gzip.compress(data) if gz else data
    whole = feed_all(data, [])
    assert feed_all(data, [c for c in cuts if c < len(data)]) == whole
    out, long_lines, problems = whole
    assert problems == []
    too_long = [len(line.encode()) > 100 for line in lines]
    shown = ["" if long else line for line, long in zip(lines, too_long, strict=True)]
    expected = "".join(line + "\n" for line in shown[:-1])
    if lines:
        expected += shown[-1] + "\n" if end or too_long[-1] else shown[-1]
    assert out.decode() == expected  # an over-long line is an empty placeholder, so line numbers hold
    assert set(long_lines) == {i + 1 for i, long in enumerate(too_long) if long}


def test_several_gzip_members_are_one_input() -> None:
    data = gzip.compress(b"a\nb\n") + gzip.compress(b"c\n")
    assert feed_all(data, [3, 30])[0] == b"a\nb\nc\n"


def test_truncated_gzip_is_a_problem_and_the_cut_line_is_dropped() -> None:
    data = gzip.compress(b"line one\n" + b"x" * 50 + b"\n")
    out, _, problems = feed_all(data[:-12], [])
    assert problems == ["bad_gzip"]
    assert out in (b"line one\n", b"")


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="abc,é€\n", max_size=200), st.lists(st.integers(0, 500), max_size=6), st.booleans())
def test_utf16_in_any_chunking_is_utf8(text: str, cuts: list[int], bom: bool) -> None:
    text = "start," + text  # ASCII first: how a BOM-less UTF-16 file is recognised
    data = text.encode("utf-16" if bom else "utf-16-le")
    out = feed_all(data, [c for c in cuts if c < len(data)], max_line_bytes=10_000)[0]
    assert out.decode() == text
