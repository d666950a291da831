"""``irsf_test_call``: a few short test calls to one number, then calls to other numbers of the same range.

IRSF fraudsters check that a stolen or cloned line reaches their range before pumping traffic into it: one to a
few calls of seconds (or unanswered) to one test number, then calls to other numbers of the range. Per
(subscriber, called range) and window, over originating calls to international or premium-rate destinations:

* the group's first record must be a short call (connected at most ``test_max_s``, or unanswered) to a number X,
  and the run of short calls to X that opens the group is its test phase (1 to ``max_tests`` calls; a longer run
  is not this pattern and ends the group for the window);
* the first record that is not a short call to X closes the test phase; from then on every call to a number of
  the range other than X is a follower, and the rule fires at the record that brings the distinct followers to
  ``followers``.

The state is ordered (which record came first matters), so it is walked record by record in both modes; batch
walks only the groups that reach ``followers + 1`` distinct called numbers at all.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import polars as pl

from ringfence.rules.models import MAX_EVIDENCE, Alert
from ringfence.rules.prepared import I64, Prepared
from ringfence.rules.prune import Buckets
from ringfence.rules.specs import TestCallRule
from ringfence.rules.threshold import remote_numbers
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

__all__ = ["TestCallEvaluator"]

_MISSING: Any = object()


#: The state of one (subscriber, range) in one window: ``(test number, test calls, test phase closed, followers,
#: evidence chain, chain length)``; a plain tuple of immutable values, for the garbage collector's sake (see
#: :data:`ringfence.rules.windows.Chain`). The followers' numbers are kept beside it, per window and key.
_Sequence = tuple[int, int, bool, int, Chain, int]


class TestCallEvaluator:
    def __init__(self, rule: TestCallRule) -> None:
        self.rule = rule
        self.name = rule.name
        self.states: WindowStates[_Sequence] = WindowStates(rule.window_ms)
        self.followers: WindowStates[dict[int, None]] = WindowStates(rule.window_ms)

    @property
    def size(self) -> int:
        return self.states.size

    def evict(self, horizon_ms: int) -> None:
        self.states.evict(horizon_ms)
        self.followers.evict(horizon_ms)

    def run(self, prep: Prepared, *, batch: bool) -> list[Alert]:
        rule = self.rule
        ranges = prep.called // 10**rule.range_digits
        mask = prep.live & prep.originating & (prep.international | prep.premium) & (ranges > 0)
        idx = np.flatnonzero(mask)
        if not idx.size:
            return []
        if batch:
            idx, positions, windows = self._candidates(prep, idx, ranges)
            if not idx.size:
                return []
        else:
            positions, windows = window_pairs(prep.start[idx], self.states.half)
        keys = list(zip(prep.values("subscriber", idx), ranges[idx].tolist(), strict=True))
        called = prep.called[idx].tolist()
        shorts = ((prep.duration[idx] <= rule.test_max_ms) | ~prep.answered[idx]).tolist()
        rows = prep.rows(idx)
        by_window = self.states.by_window
        need, max_tests = rule.followers, rule.max_tests
        alerts: list[Alert] = []
        for p, w in zip(positions, windows, strict=True):
            key = keys[p]
            group = by_window.get(w)
            if group is None:
                group = by_window[w] = {}
            st = group.get(key, _MISSING)
            if st is None:
                continue  # fired, or not this pattern, in this window
            number, row = called[p], rows[p]
            if st is _MISSING:
                # The group's first record opens the test phase, or rules the pattern out for this window.
                group[key] = (number, 1, False, 0, (row, None), 1) if shorts[p] else None
                continue
            test, run, closed, followers, chain, length = st
            if not closed:
                if number == test and shorts[p]:
                    run += 1
                    group[key] = None if run > max_tests else (test, run, False, followers, (row, chain), length + 1)
                    continue
                closed = True
            chain, length = (row, chain), length + 1
            if length >= TRIM_AT:
                chain, length = trimmed(chain), MAX_EVIDENCE
            if number != test:
                others = self.followers.window(w)
                known = others.get(key)
                if known is None:
                    known = others[key] = {}
                known[number] = None
                followers = len(known)
                if followers >= need:
                    group[key] = None
                    del self.followers.window(w)[key]
                    alerts.append(self._fire(key, w, (test, run, closed, followers, chain, length)))
                    continue
            group[key] = (test, run, closed, followers, chain, length)
        return alerts

    def _candidates(self, prep: Prepared, idx: I64, ranges: I64) -> tuple[I64, list[int], list[int]]:
        first = prep.start[idx] // self.states.half
        positions = np.arange(len(idx), dtype=np.int64)
        subs, rng, called = prep.subscriber_hash[idx], ranges[idx], prep.called[idx]
        both = np.concatenate((positions, positions))
        windows = np.concatenate((first, first - 1))
        with np.errstate(over="ignore"):
            combined = subs * np.int64(1_000_003) + rng
        keep = Buckets(windows, np.concatenate((combined, combined))).counts() > self.rule.followers
        if not keep.any():
            return idx[:0], [], []
        p = both[keep]
        pairs = pl.DataFrame(
            {
                "p": p,
                "w": windows[keep],
                "s": subs[p],
                "r": rng[p],
                "c": called[p],
            }
        )
        groups = (
            pairs.group_by("w", "s", "r")
            .agg(pl.col("c").n_unique().alias("c"))
            .filter(pl.col("c") > self.rule.followers)
            .select("w", "s", "r")
        )
        chosen = pairs.join(groups, on=["w", "s", "r"], how="semi").sort("p", "w", descending=[False, True])
        if not chosen.height:
            return idx[:0], [], []
        p = chosen["p"].to_numpy()
        used = np.unique(p)
        return idx[used], np.searchsorted(used, p).tolist(), chosen["w"].to_list()

    def _fire(self, key: Hashable, w: int, st: _Sequence) -> Alert:
        rule = self.rule
        test, run, _, followers, chain, _ = st
        assert isinstance(key, tuple)
        subscriber, prefix = key
        subject = f"subscriber:{subscriber}/range:+{prefix}"
        lead = f"{rule.description}: " if rule.description else ""
        summary = (
            f"{lead}subscriber {subscriber}: {run} short test call(s) to +{test}, then calls to "
            f"{followers} other numbers of +{prefix} within {span_text(rule.window_ms)}"
        )
        evidence = chain_rows(chain)
        return make_alert(
            rule=rule.name,
            subject=subject,
            bounds=self.states.bounds(w),
            evidence=evidence,
            severity=rule.severity,
            category=rule.category,
            numbers=[test, *remote_numbers(evidence)],
            summary=summary,
            facts={
                "range": f"+{prefix}",
                "range_digits": rule.range_digits,
                "test_number": f"+{test}",
                "test_calls": run,
                "followers": followers,
                "min_followers": rule.followers,
                "max_tests": rule.max_tests,
                "test_max_s": rule.test_max_ms / 1000,
            },
        )
