"""The generic windowed threshold rule: filter, key, window, conditions (:class:`~ringfence.rules.specs.ThresholdRule`).

Per (window, key) the state counts calls, short calls and connected milliseconds, keeps the distinct values of
one field and the latest rows as evidence; after each record added it checks the conditions, and the first record
at which they hold fires the alert, once for that window and key.

Streaming feeds every live record that passes the filter into both of its windows. Batch first finds the (window,
key) groups that could fire at all, vectorised: each condition has a necessary part that the group's totals must
meet (calls, distinct values, minutes at least the threshold; at least ``min_attempts`` calls for the ratio), and
a group whose totals fail it cannot meet it with any prefix of its records. Only the rows of the remaining groups
go through the same per-record state updates, so both modes fire the same alerts by construction, at the cost
of a polars group-by over the filtered rows.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, Final

import numpy as np
import polars as pl

from ringfence.rules.models import MAX_EVIDENCE, Alert
from ringfence.rules.prepared import DIRECTION, I64, Prepared, Row, subject_of
from ringfence.rules.prune import Buckets
from ringfence.rules.specs import ThresholdRule
from ringfence.rules.windows import (
    TRIM_AT,
    Chain,
    WindowStates,
    chain_rows,
    make_alert,
    span_text,
    trimmed,
    window_pairs,
)

__all__ = ["ThresholdEvaluator", "remote_numbers"]

_MISSING: Any = object()
_DISTINCT_CODES = {"caller": "caller_number"}


#: The state of one key in one window: ``(calls, short calls, connected ms, distinct values, evidence chain, chain
#: length)``. A plain tuple of immutable values, replaced on every update: the cyclic garbage collector untracks
#: such tuples once it has seen them (see :data:`ringfence.rules.windows.Chain`). The distinct values themselves
#: are kept beside the states (a dict of values to None per key and window): a tuple holding a dict would stay
#: tracked, and be walked by every full collection.
_Counts = tuple[int, int, int, int, Chain, int]
CALLS: Final = 0
SHORT: Final = 1
MS: Final = 2
SEEN: Final = 3


def remote_numbers(rows: list[Row]) -> list[int]:
    """The remote party of each row (the called number, or the caller of an incoming call), withheld skipped."""
    out = []
    for row in rows:
        number = row[2] if row[DIRECTION] == 1 else row[3]
        if number is not None:
            out.append(number)
    return out


class ThresholdEvaluator:
    """Evaluates one :class:`ThresholdRule`; see the module docstring."""

    def __init__(self, rule: ThresholdRule) -> None:
        self.rule = rule
        self.name = rule.name
        self.states: WindowStates[_Counts] = WindowStates(rule.window_ms)
        self.distinct: WindowStates[dict[Hashable, None]] = WindowStates(rule.window_ms)
        #: (seq, key, fired_ms) of the firings of the last run, in input order (callback rules read them).
        self.firings: list[tuple[int, Hashable, int]] = []
        self._holds = self._compile()

    @property
    def size(self) -> int:
        return self.states.size

    def evict(self, horizon_ms: int) -> None:
        self.states.evict(horizon_ms)
        self.distinct.evict(horizon_ms)

    def _compile(self) -> Callable[[_Counts], bool]:
        c = self.rule.conditions
        tests: list[Callable[[_Counts], bool]] = []
        if c.min_calls is not None:
            calls = c.min_calls
            tests.append(lambda st: st[CALLS] >= calls)
        if c.min_distinct is not None:
            distinct = c.min_distinct[1]
            tests.append(lambda st: st[SEEN] >= distinct)
        if c.min_minutes_ms is not None:
            minutes = c.min_minutes_ms
            tests.append(lambda st: st[MS] >= minutes)
        if c.min_short_ratio is not None:
            ratio, attempts = c.min_short_ratio.ratio, c.min_short_ratio.min_attempts
            tests.append(lambda st: st[CALLS] >= attempts and st[SHORT] >= ratio * st[CALLS])
        if len(tests) == 1:
            return tests[0]
        if c.match == "all":
            return lambda st: all(test(st) for test in tests)
        return lambda st: any(test(st) for test in tests)

    # ---------------------------------------------------------------- evaluation

    def run(self, prep: Prepared, *, batch: bool) -> list[Alert]:
        self.firings = []
        rule, cond = self.rule, self.rule.conditions
        idx = np.flatnonzero(prep.passes(rule.filter))
        if not idx.size:
            return []
        if batch:
            idx, positions, windows = self._candidates(prep, idx)
            if not idx.size:
                return []
        else:
            positions, windows = window_pairs(prep.start[idx], self.states.half)
        keys = prep.key_values(rule.key, idx)
        rows = prep.rows(idx)
        durations = prep.duration[idx].tolist() if cond.min_minutes_ms is not None else None
        shorts = None
        if cond.min_short_ratio is not None:
            short = (prep.duration[idx] < cond.min_short_ratio.short_ms) | ~prep.answered[idx]
            shorts = short.astype(np.int64).tolist()
        values = prep.values(cond.min_distinct[0], idx) if cond.min_distinct is not None else None
        by_window, holds = self.states.by_window, self._holds
        alerts: list[Alert] = []
        for p, w in zip(positions, windows, strict=True):
            key = keys[p]
            if key is None:
                continue
            group = by_window.get(w)
            if group is None:
                group = by_window[w] = {}
            st = group.get(key, _MISSING)
            if st is None:
                continue  # fired in this window already
            row = rows[p]
            seen = 0
            if values is not None:
                value = values[p]
                distinct = self.distinct.window(w)
                known = distinct.get(key)
                if known is None:
                    known = distinct[key] = {}
                if value is not None:
                    known[value] = None
                seen = len(known)
            if st is _MISSING:
                st = (
                    1,
                    0 if shorts is None else shorts[p],
                    0 if durations is None else durations[p],
                    seen,
                    (row, None),
                    1,
                )
            else:
                calls, short, ms, _, chain, length = st
                chain, length = (row, chain), length + 1
                if length >= TRIM_AT:
                    chain, length = trimmed(chain), MAX_EVIDENCE
                st = (
                    calls + 1,
                    short if shorts is None else short + shorts[p],
                    ms if durations is None else ms + durations[p],
                    seen,
                    chain,
                    length,
                )
            if holds(st):
                group[key] = None
                if values is not None:
                    del self.distinct.window(w)[key]
                alert = self._fire(key, w, st)
                alerts.append(alert)
                self.firings.append((alert.seq, key, alert.fired_ms))
            else:
                group[key] = st
        return alerts

    def _candidates(self, prep: Prepared, idx: I64) -> tuple[I64, list[int], list[int]]:
        """The filtered positions whose (window, key) group can fire, and their (position, window) pairs: first
        the buckets of a hashed count table that can (:mod:`ringfence.rules.prune`), then the exact groups."""
        cond = self.rule.conditions
        codes, ok = prep.codes(self.rule.key.text, idx)
        if not ok.all():
            idx, codes = idx[ok], codes[ok]
        first = prep.start[idx] // self.states.half
        positions = np.arange(len(idx), dtype=np.int64)
        columns: dict[str, Any] = {
            "p": np.concatenate((positions, positions)),
            "w": np.concatenate((first, first - 1)),
            "k": np.concatenate((codes, codes)),
        }
        if cond.min_minutes_ms is not None:
            duration = prep.duration[idx]
            columns["d"] = np.concatenate((duration, duration))
        # The necessary part of each condition, first on the buckets (count and sum bounds), then exactly.
        buckets = Buckets(columns["w"], columns["k"])
        counts = buckets.counts()
        rough: list[Any] = []
        aggs, needs = [pl.len().alias("n")], []
        if cond.min_calls is not None:
            rough.append(counts >= cond.min_calls)
            needs.append(pl.col("n") >= cond.min_calls)
        if cond.min_distinct is not None:
            rough.append(counts >= cond.min_distinct[1])  # never more distinct values than calls
            aggs.append(pl.col("v").n_unique().alias("v"))
            needs.append(pl.col("v") >= cond.min_distinct[1])
        if cond.min_minutes_ms is not None:
            rough.append(buckets.sums(columns["d"]) >= cond.min_minutes_ms)
            aggs.append(pl.col("d").sum().alias("d"))
            needs.append(pl.col("d") >= cond.min_minutes_ms)
        if cond.min_short_ratio is not None:
            rough.append(counts >= cond.min_short_ratio.min_attempts)
            needs.append(pl.col("n") >= cond.min_short_ratio.min_attempts)
        keep = np.logical_and.reduce(rough) if cond.match == "all" else np.logical_or.reduce(rough)
        if not keep.any():
            return idx[:0], [], []
        columns = {name: column[keep] for name, column in columns.items()}
        if cond.min_distinct is not None:
            field = cond.min_distinct[0]
            if field in ("subscriber", "route"):  # the text itself: hashes could merge two values into one
                columns["v"] = prep.frame[field].gather(idx[columns["p"]])
            else:
                values, _ = prep.codes(_DISTINCT_CODES.get(field, field), idx)
                columns["v"] = values[columns["p"]]
        need = needs[0]
        for more in needs[1:]:
            need = (need & more) if cond.match == "all" else (need | more)
        pairs = pl.DataFrame(columns)
        groups = pairs.group_by("w", "k").agg(aggs).filter(need).select("w", "k")
        chosen = pairs.join(groups, on=["w", "k"], how="semi").sort("p", "w", descending=[False, True])
        if not chosen.height:
            return idx[:0], [], []
        p = chosen["p"].to_numpy()
        used = np.unique(p)
        return idx[used], np.searchsorted(used, p).tolist(), chosen["w"].to_list()

    # ---------------------------------------------------------------- the alert

    def _fire(self, key: Hashable, w: int, st: _Counts) -> Alert:
        rule, cond = self.rule, self.rule.conditions
        calls, shorts, ms, seen, chain, _ = st
        subject = subject_of(rule.key, key)
        measured = [f"{calls} calls"]
        thresholds = []
        facts: dict[str, Any] = {"key": rule.key.text, "window_s": rule.window_ms // 1000, "calls": calls}
        if cond.min_calls is not None:
            facts["min_calls"] = cond.min_calls
            thresholds.append(f">= {cond.min_calls} calls")
        if cond.min_distinct is not None:
            field, count = cond.min_distinct
            facts[f"distinct_{field}"] = seen
            facts["min_distinct"] = {"field": field, "count": count}
            measured.append(f"{seen} distinct {field}")
            thresholds.append(f">= {count} distinct {field}")
        if cond.min_minutes_ms is not None:
            facts["minutes"] = round(ms / 60_000, 2)
            facts["min_minutes"] = cond.min_minutes_ms / 60_000
            measured.append(f"{ms / 60_000:.1f} connected minutes")
            thresholds.append(f">= {cond.min_minutes_ms / 60_000:g} minutes")
        if cond.min_short_ratio is not None:
            short = cond.min_short_ratio
            facts["short_calls"] = shorts
            facts["short_ratio"] = round(shorts / calls, 3)
            facts["min_short_ratio"] = short.ratio
            facts["min_attempts"] = short.min_attempts
            facts["short_s"] = short.short_ms / 1000
            measured.append(f"{shorts / calls:.0%} shorter than {short.short_ms / 1000:g} s")
            thresholds.append(f">= {short.ratio:.0%} short of >= {short.min_attempts} calls")
        if len(thresholds) > 1:
            facts["match"] = cond.match
        joiner = " and " if cond.match == "all" else " or "
        lead = f"{rule.description}: " if rule.description else ""
        summary = (
            f"{lead}{subject}: {', '.join(measured)} within {span_text(rule.window_ms)} ({joiner.join(thresholds)})"
        )
        evidence = chain_rows(chain)
        if rule.numbers == "remote":
            numbers = remote_numbers(evidence)
        elif rule.numbers == "key" and isinstance(key, int) and rule.key.kind in ("caller", "called"):
            numbers = [key]
        else:
            numbers = []
        return make_alert(
            rule=rule.name,
            subject=subject,
            bounds=self.states.bounds(w),
            evidence=evidence,
            severity=rule.severity,
            category=rule.category,
            numbers=numbers,
            summary=summary,
            facts=facts,
        )
