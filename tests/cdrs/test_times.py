"""Start times and durations read column-wise: every written form of a moment gives that moment, anything else is
null (never an exception)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from ringfence.cdrs.mapping import mapping_from_dict
from ringfence.cdrs.times import MAX_DURATION_MS, duration_ms, duration_seconds, start_ms


def _mapping(time_format: str = "iso", timezone_: str = "UTC") -> object:
    return mapping_from_dict(
        {"called": "b", "start": "s", "duration": "d", "time_format": time_format, "timezone": timezone_}
    )


def read_times(texts: list[str], time_format: str = "iso", zone: str = "UTC") -> list[int | None]:
    return start_ms(pl.Series(texts, dtype=pl.String), _mapping(time_format, zone)).to_list()  # type: ignore[arg-type]


def read_durations(texts: list[str], unit: str = "s") -> list[int | None]:
    frame = pl.DataFrame({"t": texts}, schema={"t": pl.String})
    return frame.select(duration_ms(duration_seconds(pl.col("t")), unit)).to_series().to_list()


moments = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(9998, 12, 31)).map(
    lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)
)
offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))


def _ms(moment: datetime) -> int:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return (aware - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


@settings(max_examples=300, deadline=None)
@given(moments, offsets, st.sampled_from(["T", " "]), st.booleans())
def test_iso_times_in_any_zone_give_their_moment(moment: datetime, zone: timezone, sep: str, frac: bool) -> None:
    moment = moment if frac else moment.replace(microsecond=0)
    aware = moment.replace(tzinfo=zone)
    text = aware.isoformat(sep=sep, timespec="milliseconds" if frac else "seconds")
    compact = text[:-6] + text[-6:].replace(":", "")  # +0130
    utc = aware.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    naive = moment.isoformat(timespec="milliseconds")
    expected = _ms(aware)
    if not 0 <= expected < 253_402_300_800_000:
        assert read_times([text]) == [None]
        return
    assert read_times([text, compact, utc]) == [expected] * 3
    assert read_times([naive]) == [_ms(moment)]  # no zone: UTC


@settings(max_examples=200, deadline=None)
@given(moments)
def test_patterns_and_epochs_give_the_moment(moment: datetime) -> None:
    expected = _ms(moment)
    assert read_times([moment.strftime("%Y-%m-%d %H:%M:%S")], "%Y-%m-%d %H:%M:%S") == [expected // 1000 * 1000]
    java = f"{moment.day}/{moment.month}/{moment.year} {moment:%H:%M:%S}"
    assert read_times([java], "d/M/yyyy HH:mm:ss") == [expected // 1000 * 1000]
    assert read_times([str(expected)], "epoch_ms") == [expected]
    assert read_times([f"{expected / 1000:.3f}"], "epoch_s") == [expected]


def test_local_times_follow_the_zone_including_daylight_saving() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    summer = datetime(2026, 7, 1, 12, 0, tzinfo=berlin)
    assert read_times(["2026-07-01T12:00:00"], zone="Europe/Berlin") == [_ms(summer)]
    assert read_times(["2026-07-01 12:00:00"], "%Y-%m-%d %H:%M:%S", "+02:00") == [_ms(summer)]
    assert read_times(["2026-03-29 02:30:00"], "%Y-%m-%d %H:%M:%S", "Europe/Berlin") == [None]  # skipped hour
    assert read_times(["2026-07-01T12:00:00+05:00"], zone="Europe/Berlin") == [_ms(summer) - 3 * 3_600_000]


def test_unreadable_times_are_null() -> None:
    bad = ["", "yesterday", "2026-02-30T10:00:00Z", "2026-11-22", "1969-12-31T23:59:59Z", "2026-11-22T10:00:00+25:00",
           "2026-11-22T25:00:00Z", "10000-01-01T00:00:00Z"]  # fmt: skip
    assert read_times(bad) == [None] * len(bad)
    assert read_times(["nan", "inf", "1e400", "-5"], "epoch_s") == [None] * 4


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_any_text_never_raises(text: str) -> None:
    for fmt in ("iso", "epoch_s", "epoch_ms", "%Y-%m-%d %H:%M:%S", "d/M/yyyy HH:mm:ss"):
        (value,) = read_times([text], fmt, "Europe/Berlin")
        assert value is None or 0 <= value < 253_402_300_800_000
    (ms,) = read_durations([text])
    assert ms is None or abs(ms) <= MAX_DURATION_MS


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10 * 86_400_000))
def test_durations_in_seconds_ms_and_clock_form(ms: int) -> None:
    seconds = ms / 1000
    h, rest = divmod(ms // 1000, 3600)
    clock = f"{h}:{rest // 60:02d}:{rest % 60:02d}"
    assert read_durations([f"{seconds}", f"{seconds:.3f}", clock]) == [ms, ms, ms // 1000 * 1000]
    assert read_durations([str(ms)], "ms") == [ms]


def test_durations_edge_cases() -> None:
    assert read_durations(["", " 12 ", "1:30", "-3", "ten", "nan", "12,5", str(32 * 86_400)]) == [
        0, None, 90_000, -3_000, None, None, None, None
    ]  # fmt: skip
