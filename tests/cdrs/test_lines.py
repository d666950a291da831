"""Line checks in bulk: field counts outside quotes equal Python's csv module, and polars reads the fields as csv
does."""

from __future__ import annotations

import csv

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ringfence.cdrs.lines import BAD_ENCODING, BAD_QUOTE, BLANK, OK, TOO_LONG, field_counts, read_fields, split

field = st.one_of(
    st.text(alphabet="ab 1é;", max_size=6),
    st.text(alphabet='ab,1"\n é', max_size=6).map(lambda t: '"' + t.replace('"', '""').replace("\n", " ") + '"'),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(field, min_size=1, max_size=6), min_size=1, max_size=10), st.booleans())
def test_field_counts_and_fields_equal_the_csv_module(rows: list[list[str]], crlf: bool) -> None:
    end = "\r\n" if crlf else "\n"
    data = end.join(",".join(cells) for cells in rows).encode() + end.encode()
    lines = split(data, 1, 10_000)
    counts, _quoted = field_counts(lines, ",")
    ok = np.flatnonzero(lines.status == OK)
    for i in ok.tolist():
        expected = next(csv.reader([lines.text(i)]))
        assert counts[i] == len(expected)
    for n in set(counts[ok].tolist()):
        group = ok[counts[ok] == n]
        frame = read_fields(lines, group, n, ",", True, list(range(n)))
        for row_index, i in enumerate(group.tolist()):
            expected = next(csv.reader([lines.text(i)]))
            got = [frame[f"c{k}"][row_index] or "" for k in range(n)]
            assert got == expected


def test_statuses() -> None:
    data = b"a,b\n\n   \nx" * 1 + b"y" * 200 + b'\n"open,b\n\xff\xfe,1\nlast'
    lines = split(data, 10, 100)
    field_counts(lines, ",")
    assert lines.status.tolist() == [OK, BLANK, BLANK, TOO_LONG, BAD_QUOTE, BAD_ENCODING, OK]
    assert lines.number(6) == 16 and lines.text(6) == "last"
