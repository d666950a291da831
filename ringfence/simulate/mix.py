"""A whole simulated run: ordinary traffic with attacks mixed in, their labels, and the hotlist that knows some of
them.

:func:`simulate` is the library's entry point: a :class:`Mix` (sizes, seed, which scenarios) in, a
:class:`Traffic` out (a :data:`~ringfence.cdrs.models.CDR_SCHEMA` frame in time order, its labels row for row, the
hotlist's entries, and each attack instance's numbers and subscribers); :mod:`ringfence.simulate.writer` writes
them as files. The same seed gives the same traffic, call for call.

The hotlist is what a vendor feed would say: the IRSF test numbers and a share of the pumped numbers, some Wangiri
source numbers, and **decoys**, entries for ranges no call of the run reaches (real lists are mostly numbers an
operator never sees). No entry covers a number of ordinary or roaming traffic, so every hotlist hit in a simulated
run is an attack call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from ringfence.errors import InvalidInput
from ringfence.numbers import check_region

from .calls import Calls, Instance, assemble
from .irsf import IRSF_COUNTRIES, IrsfAttack, irsf_calls, irsf_kind
from .normal import NormalTraffic, normal_calls
from .numbering import Block, draw_block, draw_numbers
from .roaming import Roaming, roaming_calls
from .simbox import SimBox, simbox_calls
from .timing import DEFAULT_START_MS, Period
from .wangiri import WangiriBurst, wangiri_calls
from .world import World

__all__ = ["Mix", "Traffic", "simulate"]


@dataclass(frozen=True, slots=True)
class Mix:
    """What to simulate: ``subscribers`` of ``home`` (an ISO region) over ``hours`` from ``start_ms``, their
    ``normal`` traffic, the attacks (any number of each kind), ``roaming`` (None: none), and ``decoys`` hotlist
    entries no call reaches. ``seed`` makes it reproducible."""

    seed: int = 1
    home: str = "GB"
    subscribers: int = 10_000
    start_ms: int = DEFAULT_START_MS
    hours: float = 24.0
    normal: NormalTraffic = field(default_factory=NormalTraffic)
    irsf: tuple[IrsfAttack, ...] = (IrsfAttack(),)
    wangiri: tuple[WangiriBurst, ...] = (WangiriBurst(),)
    simbox: tuple[SimBox, ...] = (SimBox(),)
    roaming: Roaming | None = field(default_factory=Roaming)
    decoys: int = 200


@dataclass(frozen=True, slots=True)
class Traffic:
    """A simulated run. ``cdrs`` is a :data:`~ringfence.cdrs.models.CDR_SCHEMA` frame in time order (``line`` is
    the line each row has in a CSV file written from it); ``labels`` holds ``seq``, ``line``, ``scenario`` and
    ``instance`` of every row, in the same order; ``hotlist`` the entries of the hotlist file (``+`` numbers and
    ``?`` ranges); ``instances`` every attack and roaming group with its numbers and subscribers."""

    mix: Mix
    cdrs: pl.DataFrame
    labels: pl.DataFrame
    hotlist: tuple[str, ...]
    instances: tuple[Instance, ...]

    def instance(self, instance_id: str) -> Instance:
        for found in self.instances:
            if found.id == instance_id:
                return found
        raise KeyError(instance_id)

    def counts(self) -> dict[str, int]:
        """CDRs per scenario."""
        grouped = self.labels.group_by("scenario").len().sort("scenario")
        return dict(zip(grouped["scenario"].to_list(), grouped["len"].to_list(), strict=True))


def _decoys(world: World, count: int) -> list[str]:
    """``count`` hotlist entries (half test numbers, half ``??`` ranges) in IRSF countries, in blocks no attack of
    the run uses."""
    rng = world.rng
    entries: list[str] = []
    taken = list(world.blocks)
    countries = [c for c in IRSF_COUNTRIES if c != world.home]
    for i in range(count):
        country = countries[int(rng.integers(0, len(countries)))]
        if i % 2:
            block = draw_block(rng, country, irsf_kind(country), 2, avoid=tuple(taken))
            taken.append(block)
            entries.append(block.pattern)
        else:
            number = draw_numbers(rng, country, irsf_kind(country), 1)
            if not any(b.covers(number)[0] for b in taken):
                taken.append(Block(int(number[0]), 0, number))
                entries.append(f"+{int(number[0])}")
    return entries


def simulate(mix: Mix) -> Traffic:
    """Simulate ``mix``: the traffic, its labels and its hotlist."""
    home = check_region(mix.home)
    if home is None:
        raise InvalidInput("the home country is required (an ISO region such as GB)", code="invalid_region")
    if mix.subscribers > 5_000_000:
        raise InvalidInput(f"at most 5,000,000 subscribers, not {mix.subscribers:,}", code="invalid_size")
    rng = np.random.default_rng(mix.seed)
    world = World.create(rng, Period(mix.start_ms, mix.hours), home, mix.subscribers)
    parts: list[Calls] = [normal_calls(world, mix.normal)]
    instances: list[Instance] = []
    for n, attack in enumerate(mix.irsf, 1):
        calls, instance = irsf_calls(world, attack, f"irsf-{n}")
        parts.append(calls)
        instances.append(instance)
    for n, burst in enumerate(mix.wangiri, 1):
        several, instance = wangiri_calls(world, burst, f"wangiri-{n}")
        parts.extend(several)
        instances.append(instance)
    for n, box in enumerate(mix.simbox, 1):
        calls, instance = simbox_calls(world, box, f"simbox-{n}")
        parts.append(calls)
        instances.append(instance)
    if mix.roaming is not None:
        several, groups = roaming_calls(world, mix.roaming)
        parts.extend(several)
        instances.extend(groups)
    hotlisted = [f"+{n}" for inst in instances for n in inst.hotlisted]
    hotlist = list(dict.fromkeys(hotlisted + _decoys(world, mix.decoys)))
    order = rng.permutation(len(hotlist))
    cdrs, labels = assemble(parts)
    return Traffic(mix, cdrs, labels, tuple(hotlist[i] for i in order), tuple(instances))
