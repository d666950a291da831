"""When simulated calls happen: the period a run covers, the daily rhythm of ordinary calling, and the quiet hours
attacks prefer.

People call by day: traffic climbs from 06:00, peaks late morning and early evening, and falls to a few percent of
the peak between 01:00 and 05:00 (the shape of operators' published busy-hour curves). Fraud runs the other way:
IRSF pumping starts when nobody watches (nights, weekends), so an attack's start is drawn among night hours when
one fits in the period. Hours are UTC; the home country's offset is not applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import numpy as np
import numpy.typing as npt

from ringfence.errors import InvalidInput

__all__ = ["DEFAULT_START_MS", "HOUR_MS", "MINUTE_MS", "RHYTHM", "Period"]

I64 = npt.NDArray[np.int64]

MINUTE_MS: Final = 60_000
HOUR_MS: Final = 3_600_000
_DAY_MS: Final = 24 * HOUR_MS
#: A recent fixed day, so a run without ``--start`` is reproducible: 2026-11-22T00:00:00Z.
DEFAULT_START_MS: Final = int(datetime(2026, 11, 22, tzinfo=UTC).timestamp() * 1000)
#: Relative call rate by hour of day (0 to 23).
RHYTHM: Final = np.array(
    [0.15, 0.08, 0.05, 0.04, 0.05, 0.12, 0.35, 0.70, 1.00, 1.20, 1.30, 1.30,
     1.20, 1.20, 1.25, 1.30, 1.35, 1.40, 1.30, 1.10, 0.90, 0.70, 0.45, 0.25],
)  # fmt: skip
_NIGHT: Final = (22, 23, 0, 1, 2, 3, 4)


@dataclass(frozen=True, slots=True)
class Period:
    """The simulated span: from ``start_ms`` for ``hours`` hours."""

    start_ms: int
    hours: float

    def __post_init__(self) -> None:
        if not 0 < self.hours <= 24 * 366:
            raise InvalidInput(f"hours must be more than 0 and at most a year, not {self.hours}", code="invalid_size")

    @property
    def end_ms(self) -> int:
        return self.start_ms + round(self.hours * HOUR_MS)

    @property
    def span_ms(self) -> int:
        return self.end_ms - self.start_ms

    def rhythm(self, rng: np.random.Generator, count: int) -> I64:
        """``count`` call starts following the daily rhythm (milliseconds, unsorted)."""
        slots = -(-self.span_ms // HOUR_MS)  # the hours the period touches, the last maybe partial
        slot_start = self.start_ms + np.arange(slots, dtype=np.int64) * HOUR_MS
        slot_len = np.minimum(HOUR_MS, self.end_ms - slot_start)
        weights = RHYTHM[(slot_start % _DAY_MS) // HOUR_MS] * slot_len
        slot = rng.choice(slots, size=count, p=weights / weights.sum())
        starts: I64 = slot_start[slot] + (rng.random(count) * slot_len[slot]).astype(np.int64)
        return starts

    def uniform(self, rng: np.random.Generator, count: int, start_ms: int, span_ms: int) -> I64:
        """``count`` starts spread evenly over ``[start_ms, start_ms + span_ms)``."""
        starts: I64 = start_ms + (rng.random(count) * span_ms).astype(np.int64)
        return starts

    def pick_start(self, rng: np.random.Generator, span_ms: int, at_h: float | None, *, night: bool) -> int:
        """When an episode of ``span_ms`` starts: ``at_h`` hours into the period if given, else a random moment
        that lets it end within the period (when it can), at a night hour when ``night`` and one fits."""
        if at_h is not None:
            return self.start_ms + round(at_h * HOUR_MS)
        latest = max(self.start_ms, self.end_ms - span_ms)
        hours = np.arange(self.start_ms - self.start_ms % HOUR_MS, latest + 1, HOUR_MS, dtype=np.int64)
        hours = hours[(hours >= self.start_ms) & (hours <= latest)]
        if night and hours.shape[0]:
            quiet = hours[np.isin((hours % _DAY_MS) // HOUR_MS, _NIGHT)]
            if quiet.shape[0]:
                return min(int(rng.choice(quiet)) + int(rng.integers(0, 30 * MINUTE_MS)), latest)
        return self.start_ms + int(rng.integers(0, latest - self.start_ms + 1))
