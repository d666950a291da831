"""``destination_spike``: a destination country's calls (or connected minutes) far above its own rolling baseline.

IRSF shows up as traffic to a country (often a small one, or a non-geographic code) that normally sees little.
Per country of the remote party and per epoch-aligned bucket (1 h by default), over originating international
calls, the rule fires at the record that takes the bucket above ``max(minimum, factor x baseline)``, where the
baseline is the mean per bucket of the ``baseline_buckets`` buckets before it.

**A baseline that is final when read.** A bucket may still receive records while the lateness allowance lets
records into it, so the baseline skips the ``ceil(lateness / bucket)`` buckets just before the current one:
when a record of bucket ``b`` is evaluated, every bucket up to ``b - gap - 1`` ends at or before its start minus
the allowance, and any record still to come in such a bucket is late. Both modes therefore read the same
baseline. Buckets before the stream's first record are unknown, not empty: the mean is over the baseline
buckets at or after it, and the rule waits until there are ``min_history`` of them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from ringfence.numbers import REGIONS
from ringfence.rules.models import MAX_EVIDENCE, Alert
from ringfence.rules.prepared import Prepared, Row
from ringfence.rules.specs import SpikeRule
from ringfence.rules.threshold import remote_numbers
from ringfence.rules.windows import add_evidence, make_alert, span_text

__all__ = ["SpikeEvaluator"]

Group = tuple[int, int]  # (region index, bucket index)
_MISSING: Any = object()


class SpikeEvaluator:
    def __init__(self, rule: SpikeRule, lateness_ms: int) -> None:
        self.rule = rule
        self.name = rule.name
        self.gap = -(-lateness_ms // rule.bucket_ms)
        self.floor = rule.minimum * (60_000 if rule.measure == "minutes" else 1)
        self.counts: dict[Group, int] = {}  # the bucket's value so far
        self.final: dict[Group, int] = self.counts  # where baselines are read (batch: the vectorised totals)
        self.thresholds: dict[Group, tuple[float, float, int] | None] = {}
        self.fired: set[Group] = set()
        self.evidence: dict[Group, list[Row]] = {}
        self.origin: int | None = None  # bucket of the stream's first record

    @property
    def size(self) -> int:
        return len(self.counts) + len(self.evidence)

    def evict(self, horizon_ms: int) -> None:
        size = self.rule.bucket_ms
        keep_from = horizon_ms // size - self.gap - self.rule.baseline_buckets
        for group in [g for g in self.counts if g[1] < keep_from]:
            del self.counts[group]
        current = horizon_ms // size
        for table in (self.evidence, self.thresholds):
            for group in [g for g in table if g[1] < current]:
                del table[group]
        self.fired = {g for g in self.fired if g[1] >= current}

    def run(self, prep: Prepared, *, batch: bool) -> list[Alert]:
        rule = self.rule
        if self.origin is None and prep.origin_ms is not None:
            self.origin = prep.origin_ms // rule.bucket_ms
        region = prep.remote_region
        idx = np.flatnonzero(prep.live & prep.originating & prep.international & (region >= 0))
        if not idx.size:
            return []
        buckets = prep.start[idx] // rule.bucket_ms
        regions = region[idx].astype(np.int64)
        values = np.ones(len(idx), np.int64) if rule.measure == "calls" else prep.duration[idx]
        if batch:
            keep = self._candidates(regions, buckets, values)
            idx, regions, buckets, values = idx[keep], regions[keep], buckets[keep], values[keep]
            if not idx.size:
                return []
        rows = prep.rows(idx)
        counts, fired, evidence, thresholds = self.counts, self.fired, self.evidence, self.thresholds
        alerts: list[Alert] = []
        groups = zip(regions.tolist(), buckets.tolist(), values.tolist(), rows, strict=True)
        for r, b, value, row in groups:
            group = (r, b)
            total = counts[group] = counts.get(group, 0) + value
            if group in fired:
                continue
            seen = evidence.get(group)
            if seen is None:
                seen = evidence[group] = []
            add_evidence(seen, row)
            limit = thresholds.get(group, _MISSING)
            if limit is _MISSING:
                limit = thresholds[group] = self._threshold(group)
            if limit is not None and total > limit[0]:
                fired.add(group)
                alerts.append(self._fire(group, total, limit, evidence.pop(group)))
        return alerts

    def _threshold(self, group: Group) -> tuple[float, float, int] | None:
        """(threshold, baseline mean, baseline buckets) of a group, None while the history is too short."""
        r, b = group
        assert self.origin is not None
        high = b - self.gap - 1
        low = max(high - self.rule.baseline_buckets + 1, self.origin)
        available = high - low + 1
        if available < self.rule.min_history:
            return None
        final = self.final
        mean = sum(final.get((r, j), 0) for j in range(low, high + 1)) / available
        return max(self.floor, self.rule.factor * mean), mean, available

    def _candidates(
        self, regions: np.ndarray[Any, Any], buckets: np.ndarray[Any, Any], values: np.ndarray[Any, Any]
    ) -> np.ndarray[Any, Any]:
        """Batch: every bucket's total is final, so the groups that can fire are those whose total exceeds their
        threshold; the walk is only over their rows, with baselines read from the totals."""
        totals = (
            pl.DataFrame({"r": regions, "b": buckets, "v": values})
            .group_by("r", "b")
            .agg(pl.col("v").sum())
            .sort("r", "b")
        )
        self.final = dict(
            zip(zip(totals["r"].to_list(), totals["b"].to_list(), strict=True), totals["v"].to_list(), strict=True)
        )
        chosen = []
        for group, total in self.final.items():
            if total > self.floor:
                limit = self._threshold(group)
                if limit is not None and total > limit[0]:
                    chosen.append(group[0] * (1 << 40) + group[1])
        return np.isin(regions * (1 << 40) + buckets, np.array(chosen, dtype=np.int64))

    def _fire(self, group: Group, total: int, limit: tuple[float, float, int], evidence: list[Row]) -> Alert:
        rule = self.rule
        country = REGIONS[group[0]]
        minutes = rule.measure == "minutes"
        scale = 60_000 if minutes else 1
        unit = "connected minutes" if minutes else "calls"
        value = round(total / scale, 2) if minutes else total
        threshold, mean, available = limit
        lead = f"{rule.description}: " if rule.description else ""
        summary = (
            f"{lead}{country}: {value} {unit} in {span_text(rule.bucket_ms)}, above {threshold / scale:.1f} "
            f"(max of {rule.minimum:g} and {rule.factor:g} x the mean {mean / scale:.1f} "
            f"of {available} earlier buckets)"
        )
        evidence = evidence[-MAX_EVIDENCE:]
        return make_alert(
            rule=rule.name,
            subject=f"country:{country}",
            bounds=(group[1] * rule.bucket_ms, (group[1] + 1) * rule.bucket_ms),
            evidence=evidence,
            severity=rule.severity,
            category=rule.category,
            numbers=remote_numbers(evidence),
            summary=summary,
            facts={
                "country": country,
                "measure": rule.measure,
                "value": value,
                "baseline_mean": round(mean / scale, 3),
                "baseline_buckets": available,
                "threshold": round(threshold / scale, 3),
                "factor": rule.factor,
                "minimum": rule.minimum,
                "bucket_s": rule.bucket_ms // 1000,
            },
        )
