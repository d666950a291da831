"""Helpers for the rules tests: CDR frames from a few keyword arguments, and both modes run on them."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import Any

import polars as pl

from ringfence.cdrs.models import CDR_SCHEMA, Direction
from ringfence.rules.batch import evaluate, late_count
from ringfence.rules.config import RuleSet
from ringfence.rules.hotlist import NO_HOTLISTS, HotlistLookup
from ringfence.rules.models import Alert
from ringfence.rules.stream import StreamEngine
from tests.conftest import START_MS

T0 = (START_MS // 86_400_000 + 1) * 86_400_000  # a midnight: window boundaries fall on round offsets from it
SEC = 1000
MIN = 60 * SEC
HOUR = 60 * MIN

HOME = 447400100000  # our subscribers' numbers: +44 7400 1xxxxx (GB mobile)
UK = 447400900000  # other GB mobiles
EE = 37255010000  # +372 5501 0xxx: Estonian mobiles (a range of 1,000 under the default 3 digits)
LV = 37126100000  # +371 2610 0xxx: Latvian mobiles
GB_PREMIUM = 449098790000  # +44 909 879 xxxx: GB premium rate


@dataclass(frozen=True)
class Call:
    """One record with defaults: an answered 60 s outgoing call from subscriber s1 to a GB mobile at T0."""

    at: int = 0  # ms after T0
    caller: int | None = HOME + 1
    called: int = UK + 1
    seconds: float = 60
    answered: bool | None = None  # default: seconds > 0
    direction: Direction = Direction.OUTGOING
    subscriber: str = "s1"
    called_plan: bool = True
    route: str | None = None


def out(sub: int, called: int, at: int, seconds: float = 60, **kw: Any) -> Call:
    """Subscriber ``s<sub>`` (number HOME + sub) calls ``called`` at T0 + ``at`` ms."""
    return Call(at=at, caller=HOME + sub, called=called, seconds=seconds, subscriber=f"s{sub}", **kw)


def inc(caller: int | None, sub: int, at: int, seconds: float = 0, **kw: Any) -> Call:
    """``caller`` calls our subscriber ``s<sub>`` at T0 + ``at`` ms (unanswered by default)."""
    return Call(
        at=at,
        caller=caller,
        called=HOME + sub,
        seconds=seconds,
        direction=Direction.INCOMING,
        subscriber=f"s{sub}",
        **kw,
    )


def frame(calls: list[Call], first_seq: int = 0) -> pl.DataFrame:
    rows = []
    for i, c in enumerate(calls):
        ms = round(c.seconds * 1000)
        rows.append(
            {
                "seq": first_seq + i,
                "line": first_seq + i + 2,
                "caller": c.caller,
                "called": c.called,
                "called_plan": c.called_plan,
                "start_ms": T0 + c.at,
                "duration_ms": ms,
                "answered": ms > 0 if c.answered is None else c.answered,
                "direction": int(c.direction),
                "subscriber": c.subscriber,
                "route": c.route,
                "cost": None,
            }
        )
    return pl.DataFrame(rows, schema=CDR_SCHEMA)


def stream(
    data: pl.DataFrame, rules: RuleSet, hotlists: HotlistLookup, cuts: list[int]
) -> tuple[list[Alert], StreamEngine]:
    """``data`` fed to a fresh engine in frames ending at the (sorted, deduplicated) ``cuts``."""
    engine = StreamEngine(rules, lambda: hotlists)
    alerts: list[Alert] = []
    at = 0
    for cut in [*sorted(set(cuts)), data.height]:
        if cut > at:
            alerts += engine.feed(data[at:cut])
            at = cut
    return alerts, engine


def both(
    calls: list[Call], rules: RuleSet | None = None, hotlists: HotlistLookup = NO_HOTLISTS, seed: int = 0
) -> list[Alert]:
    """The batch alerts, after checking that streaming gives the same, fed one record at a time, in one frame,
    and in random frames; and that both count the same late records."""
    rules = rules or RuleSet.default("GB")
    data = frame(calls)
    batch = evaluate(data, rules, hotlists)
    rng = random.Random(seed)
    for cuts in (list(range(data.height)), [], [rng.randrange(data.height + 1) for _ in range(3)]):
        alerts, engine = stream(data, rules, hotlists, cuts)
        assert alerts == batch
        assert engine.late == late_count(data, rules)
    return batch


def only(alerts: list[Alert], rule: str) -> list[Alert]:
    return [a for a in alerts if a.rule == rule]


def at(alert: Alert) -> int:
    """When the alert fired, in ms after T0."""
    return alert.fired_ms - T0


__all__ = ["Call", "both", "frame", "inc", "only", "out", "replace", "stream"]
