"""Rules as data: what each kind of rule looks at and the thresholds it applies.

A rule set (:class:`ringfence.rules.config.RuleSet`) is a tuple of these frozen specs, parsed from YAML or the
built-in defaults. The evaluators (one module per kind) read them; nothing here evaluates anything.

Kinds:

* :class:`ThresholdRule`, the generic windowed threshold rule custom rules are made of: a filter on each record, a
  key grouping records (subscriber, caller, called number or range, caller range, country, route), a window, and
  conditions over the records of one key in one window (calls, distinct values, answered minutes, short-call
  ratio). ``range_velocity``, ``subscriber_velocity``, ``wangiri`` and ``short_call_ratio`` are instances.
* :class:`HotlistHitRule` and :class:`InvalidDestinationRule`: conditions on one record.
* :class:`TestCallRule`: the IRSF test-call sequence (an ordered pattern, not a count).
* :class:`SpikeRule`: a destination country's traffic per bucket against its own rolling baseline.
* :class:`CallbackRule`: calls to a range another rule (``wangiri``) flagged earlier.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from ringfence.cdrs.models import Direction
from ringfence.rules.models import Severity

__all__ = [
    "DESTINATIONS",
    "DISTINCT_FIELDS",
    "KEY_KINDS",
    "CallbackRule",
    "Conditions",
    "Filter",
    "HotlistHitRule",
    "InvalidDestinationRule",
    "Key",
    "RuleSpec",
    "ShortRatio",
    "SpikeRule",
    "TestCallRule",
    "ThresholdRule",
]

#: Destination classes a filter may ask for (of the remote party: the called number, or the caller of an incoming
#: call): ``international`` (another country calling code than home), ``domestic``, ``premium`` (premium-rate by
#: the numbering plan), ``any``.
DESTINATIONS: Final = ("international", "domestic", "premium", "any")
#: What a key can be; ``called_range`` and ``caller_range`` take a digit count (``called_range:3``).
KEY_KINDS: Final = ("subscriber", "caller", "called", "called_range", "caller_range", "country", "route")
#: Fields ``min_distinct`` may count.
DISTINCT_FIELDS: Final = ("subscriber", "caller", "called", "country", "route")
ALL_DIRECTIONS: Final = frozenset(Direction)


@dataclass(frozen=True, slots=True)
class Filter:
    """Which records a threshold rule looks at; every given test must pass (``None``: no test).

    ``number_types`` are type codes of :data:`ringfence.numbers.NUMBER_TYPES` (of the remote party);
    ``max_duration_ms`` keeps calls connected at most that long (unanswered calls last 0); ``hotlisted`` asks
    whether a hotlist covers the remote party.
    """

    directions: frozenset[Direction] = ALL_DIRECTIONS
    destinations: frozenset[str] = frozenset({"any"})
    number_types: frozenset[int] | None = None
    max_duration_ms: int | None = None
    answered: bool | None = None
    hotlisted: bool | None = None


@dataclass(frozen=True, slots=True)
class Key:
    """What groups records: ``kind`` (one of :data:`KEY_KINDS`) and, for ranges, the trailing digits dropped."""

    kind: str
    digits: int = 0

    @property
    def text(self) -> str:
        return f"{self.kind}:{self.digits}" if self.kind.endswith("_range") else self.kind


@dataclass(frozen=True, slots=True)
class ShortRatio:
    """At least ``min_attempts`` calls of which a share of at least ``ratio`` are short (connected less than
    ``short_ms``, or unanswered)."""

    ratio: float
    min_attempts: int
    short_ms: int


@dataclass(frozen=True, slots=True)
class Conditions:
    """Thresholds over one key's records in one window; ``match`` says whether all given ones must hold or any.

    ``min_minutes_ms`` is ``min_minutes`` in milliseconds of connected time.
    """

    min_calls: int | None = None
    min_distinct: tuple[str, int] | None = None
    min_minutes_ms: int | None = None
    min_short_ratio: ShortRatio | None = None
    match: Literal["all", "any"] = "all"


@dataclass(frozen=True, slots=True)
class ThresholdRule:
    """The generic windowed threshold rule (see the module docstring). ``numbers``: what an alert implicates,
    the distinct remote parties of its evidence (``remote``), the key itself when it is a number (``key``), or
    nothing (``none``)."""

    name: str
    severity: Severity
    category: str
    window_ms: int
    filter: Filter
    key: Key
    conditions: Conditions
    numbers: Literal["remote", "key", "none"] = "remote"
    description: str = ""


@dataclass(frozen=True, slots=True)
class HotlistHitRule:
    name: str
    severity: Severity
    window_ms: int
    description: str = ""


@dataclass(frozen=True, slots=True)
class InvalidDestinationRule:
    name: str
    severity: Severity
    category: str
    window_ms: int
    description: str = ""


@dataclass(frozen=True, slots=True)
class TestCallRule:
    """Per (subscriber, called range): the window's first 1 to ``max_tests`` calls of the pair are short calls
    (connected at most ``test_max_ms``, or unanswered) to one number X, then calls reach ``followers`` other
    numbers of the range. Originating calls to international or premium-rate destinations only."""

    name: str
    severity: Severity
    category: str
    window_ms: int
    range_digits: int
    test_max_ms: int
    max_tests: int
    followers: int
    description: str = ""


@dataclass(frozen=True, slots=True)
class SpikeRule:
    """Originating international traffic per destination country and bucket: an alert when the bucket's calls
    (or answered minutes) exceed ``max(minimum, factor x mean of the baseline buckets)``. The baseline is the
    ``baseline_buckets`` buckets before the current one, skipping the ones the lateness allowance still lets
    records into (so it is final when read); at least ``min_history`` of them must lie inside the stream seen."""

    name: str
    severity: Severity
    category: str
    bucket_ms: int
    baseline_buckets: int
    min_history: int
    factor: float
    minimum: float
    measure: Literal["calls", "minutes"] = "calls"
    description: str = ""


@dataclass(frozen=True, slots=True)
class CallbackRule:
    """An originating call to a number of a range that the rule ``source`` (a threshold rule keyed by
    ``caller_range``) fired on earlier in the input, within ``callback_ms`` after that firing."""

    name: str
    severity: Severity
    category: str
    window_ms: int
    source: str
    callback_ms: int
    description: str = ""


RuleSpec = ThresholdRule | HotlistHitRule | InvalidDestinationRule | TestCallRule | SpikeRule | CallbackRule
