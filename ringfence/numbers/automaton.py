"""Digit automata compiled from phonenumbers' metadata regexes.

phonenumbers describes every number class with a regular expression over the digits 0-9 (digits, character
classes, groups, alternation, ``?`` and ``{n,m}``).  We parse those expressions with the standard library's
regex parser (``re._parser``), build a Thompson NFA per pattern and determinise *all patterns of a country
code together* (subset construction over the alphabet 0-9).  Each DFA state records the set of patterns whose
NFA accept state it contains, as a bitmask: after reading a national significant number (NSN) the final
state's mask says exactly which of the patterns *fully* match it (``re.fullmatch`` semantics).

Two extensions are needed by callers:

* ``prefix=True`` appends ``\\d*`` to a pattern, turning full-match into ``re.match`` (prefix) semantics; used
  for ``leading_digits`` and ``national_prefix_for_parsing``.
* ``end_anchor_id``: ``$`` (``AT_END``) at the end of an alternative is supported only for the national prefix
  patterns: reaching it marks a separate "matches only if the input ends here" pattern id.

Anything else (look-arounds, back references, ``.``, non-digit literals) raises ``ValueError``: the compiler
refuses rather than guesses, so exactness is never silently lost.
"""

from __future__ import annotations

import re._parser as sre_parse  # type: ignore[import-not-found]  # typeshed has no stub for it
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DFA", "PatternSpec", "determinise"]

ALL_DIGITS = 0x3FF
_MAXREPEAT = sre_parse.MAXREPEAT


@dataclass(frozen=True, slots=True)
class PatternSpec:
    """One regex to track: ``pattern_id`` is its bit in the DFA masks."""

    pattern: str
    pattern_id: int
    prefix: bool = False
    end_anchor_id: int | None = None


@dataclass(slots=True)
class _NFA:
    eps: list[list[int]] = field(default_factory=list)
    edges: list[list[tuple[int, int]]] = field(default_factory=list)  # (digit mask, target)
    accept: dict[int, int] = field(default_factory=dict)  # NFA state -> pattern bit

    def new(self) -> int:
        self.eps.append([])
        self.edges.append([])
        return len(self.eps) - 1

    def add(self, spec: PatternSpec) -> int:
        start = self.new()
        end = self._seq(sre_parse.parse(spec.pattern), start, spec)
        if spec.prefix:
            loop = self.new()
            self.eps[end].append(loop)
            self.edges[loop].append((ALL_DIGITS, loop))
            end = loop
        self.accept[end] = self.accept.get(end, 0) | (1 << spec.pattern_id)
        return start

    def _seq(self, items: Any, cur: int, spec: PatternSpec) -> int:
        for op, av in items:
            cur = self._node(op, av, cur, spec)
        return cur

    def _node(self, op: Any, av: Any, cur: int, spec: PatternSpec) -> int:
        name = str(op)
        if name == "LITERAL":
            return self._step(cur, _digit_mask_literal(av))
        if name == "IN":
            return self._step(cur, _class_mask(av))
        if name == "SUBPATTERN":
            return self._seq(av[-1], cur, spec)
        if name == "BRANCH":
            end = self.new()
            for alt in av[1]:
                start = self.new()
                self.eps[cur].append(start)
                self.eps[self._seq(alt, start, spec)].append(end)
            return end
        if name in ("MAX_REPEAT", "MIN_REPEAT"):
            lo, hi, sub = av
            for _ in range(lo):
                cur = self._seq(sub, cur, spec)
            if hi == _MAXREPEAT:
                loop = self.new()
                self.eps[cur].append(loop)
                self.eps[self._seq(sub, loop, spec)].append(loop)
                return loop
            end = self.new()
            for _ in range(hi - lo):
                self.eps[cur].append(end)
                cur = self._seq(sub, cur, spec)
            self.eps[cur].append(end)
            return end
        if name == "AT" and str(av) == "AT_END" and spec.end_anchor_id is not None:
            marker = self.new()
            self.eps[cur].append(marker)
            self.accept[marker] = self.accept.get(marker, 0) | (1 << spec.end_anchor_id)
            return self.new()  # nothing may follow the anchor: continue from an unreachable state
        raise ValueError(f"unsupported regex construct {name} {av!r} in {spec.pattern!r}")

    def _step(self, cur: int, mask: int) -> int:
        nxt = self.new()
        self.edges[cur].append((mask, nxt))
        return nxt


def _digit_mask_literal(code: int) -> int:
    if not 48 <= code <= 57:
        raise ValueError(f"non-digit literal {chr(code)!r}")
    return 1 << (code - 48)


def _class_mask(items: Any) -> int:
    mask = 0
    negate = False
    for op, av in items:
        name = str(op)
        if name == "LITERAL":
            mask |= _digit_mask_literal(av) if 48 <= av <= 57 else 0
        elif name == "RANGE":
            for code in range(max(av[0], 48), min(av[1], 57) + 1):
                mask |= 1 << (code - 48)
        elif name == "CATEGORY" and str(av) == "CATEGORY_DIGIT":
            mask = ALL_DIGITS
        elif name == "NEGATE":
            negate = True
        else:
            raise ValueError(f"unsupported class item {name} {av!r}")
    return (ALL_DIGITS & ~mask) if negate else mask


@dataclass(frozen=True, slots=True)
class DFA:
    """Deterministic automaton: ``trans[state][digit]``; ``masks[state]`` = bitmask of fully-matched patterns.

    State 0 is the start state.  The empty NFA set (no pattern can match any more) is a normal state that loops
    to itself, so walks never need a special case.
    """

    trans: list[list[int]]
    masks: list[int]


def determinise(specs: Sequence[PatternSpec]) -> DFA:
    """Subset construction of the union of ``specs`` over digits 0-9."""
    nfa = _NFA()
    starts = [nfa.add(spec) for spec in specs]
    closures: dict[int, frozenset[int]] = {}

    def closure(state: int) -> frozenset[int]:
        cached = closures.get(state)
        if cached is not None:
            return cached
        seen = {state}
        stack = [state]
        while stack:
            for nxt in nfa.eps[stack.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        result = frozenset(seen)
        closures[state] = result
        return result

    moves: dict[int, list[frozenset[int]]] = {}

    def move(state: int) -> list[frozenset[int]]:
        cached = moves.get(state)
        if cached is not None:
            return cached
        per_digit: list[set[int]] = [set() for _ in range(10)]
        for mask, target in nfa.edges[state]:
            tc = closure(target)
            for digit in range(10):
                if mask >> digit & 1:
                    per_digit[digit] |= tc
        result = [frozenset(s) for s in per_digit]
        moves[state] = result
        return result

    initial = frozenset(set().union(*(closure(s) for s in starts)))
    index: dict[frozenset[int], int] = {initial: 0}
    order = [initial]
    trans: list[list[int]] = []
    accept = nfa.accept
    masks: list[int] = []
    i = 0
    while i < len(order):
        current = order[i]
        i += 1
        mask = 0
        row_sets: list[set[int]] = [set() for _ in range(10)]
        for state in current:
            mask |= accept.get(state, 0)
            if nfa.edges[state]:
                for digit, targets in enumerate(move(state)):
                    row_sets[digit] |= targets
        row: list[int] = []
        for digit_targets in row_sets:
            key = frozenset(digit_targets)
            target_id = index.get(key)
            if target_id is None:
                target_id = len(order)
                index[key] = target_id
                order.append(key)
            row.append(target_id)
        trans.append(row)
        masks.append(mask)
    return DFA(trans=trans, masks=masks)
