"""JsonRows renders many JSON texts at once: each row must equal the text built one value at a time in Python."""

from __future__ import annotations

import numpy as np
import orjson
from hypothesis import given
from hypothesis import strategies as st

from ringfence.jsonrows import JsonRows
from ringfence.registry.views import iso

_MS = st.integers(min_value=0, max_value=253_402_300_799_999)  # 1970 .. the end of 9999
_INT = st.integers(min_value=0, max_value=2**63 - 1)
_TEXTS = st.lists(st.binary(min_size=0, max_size=12).map(lambda b: b.replace(b"\0", b"")), min_size=1, max_size=5)


def _rows_of(joined: bytes, count: int) -> list[object]:
    value: list[object] = orjson.loads(b"[" + joined + b"]")
    assert len(value) == count
    return value


@given(st.lists(_MS, max_size=50))
def test_times_are_iso_8601_utc_with_milliseconds(ms: list[int]) -> None:
    rows = JsonRows(len(ms))
    rows.text(b'"')
    rows.times(np.array(ms, dtype=np.int64))
    rows.text(b'"')
    assert _rows_of(rows.join(), len(ms)) == [iso(m) for m in ms]


@given(st.lists(_INT, max_size=50))
def test_integers_are_plain_decimals(values: list[int]) -> None:
    rows = JsonRows(len(values))
    rows.integers(np.array(values, dtype=np.int64))
    assert rows.join() == ",".join(map(str, values)).encode()


@given(
    st.data(),
    st.integers(min_value=0, max_value=40),
    _TEXTS,
)
def test_blocks_for_some_rows_picks_and_replaced_rows(data: st.DataObject, count: int, texts: list[bytes]) -> None:
    """A row is its blocks' texts in order (blocks for other rows leave nothing), or its replacement."""
    keys = data.draw(st.lists(st.integers(0, len(texts) - 1), min_size=count, max_size=count))
    some = sorted(data.draw(st.sets(st.integers(0, max(count - 1, 0)), max_size=count))) if count else []
    some_values = data.draw(st.lists(_INT, min_size=len(some), max_size=len(some)))
    replaced = data.draw(st.dictionaries(st.integers(0, max(count - 1, 0)), st.integers(0, 999), max_size=3))
    replaced = {row: value for row, value in replaced.items() if row < count}
    rows = JsonRows(count)
    rows.text(b'"')
    rows.pick([t.hex().encode() for t in texts], np.array(keys, dtype=np.intp))
    picked = np.array(some, dtype=np.intp)
    rows.text(b"-", picked)
    rows.integers(np.array(some_values, dtype=np.int64), picked)
    rows.text(b'"')
    for row, value in replaced.items():
        rows.replace(row, str(value).encode())
    expected: list[object] = []
    extra = dict(zip(some, some_values, strict=True))
    for row in range(count):
        if row in replaced:
            expected.append(replaced[row])
        else:
            tail = f"-{extra[row]}" if row in extra else ""
            expected.append(texts[keys[row]].hex() + tail)
    assert _rows_of(rows.join(), count) == expected
