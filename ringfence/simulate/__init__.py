"""Simulated, labelled call traffic: ordinary subscribers, IRSF attacks, Wangiri bursts and callbacks, SIM boxes and
roaming, for the demo, the tests and the detection benchmark.

Library first: :func:`simulate` (and :func:`seed_case`, the seed's IRSF case) return data, a
:class:`Traffic` (a :data:`~ringfence.cdrs.models.CDR_SCHEMA` frame, its labels, the hotlist's entries, the attack
instances); :mod:`ringfence.simulate.writer` writes files; ``ringfence simulate`` is a thin command over both.
"""

from .calls import LABEL_SCHEMA, NORMAL, Instance
from .irsf import IRSF, IrsfAttack
from .mix import Mix, Traffic, simulate
from .normal import NormalTraffic
from .roaming import ROAMING, Roaming
from .seedcase import SEED_CALLS, SEED_HOTLISTED, SEED_NUMBERS, seed_case, seed_mix
from .simbox import SIMBOX, SimBox
from .timing import DEFAULT_START_MS
from .wangiri import CALLBACK, WANGIRI, WangiriBurst
from .writer import write_cdrs, write_hotlist, write_labels

#: Scenarios whose calls are fraud (an alert on them is a true positive); ``normal`` and ``roaming`` are not.
ATTACKS = (IRSF, WANGIRI, CALLBACK, SIMBOX)

__all__ = [
    "ATTACKS",
    "CALLBACK",
    "DEFAULT_START_MS",
    "IRSF",
    "LABEL_SCHEMA",
    "NORMAL",
    "ROAMING",
    "SEED_CALLS",
    "SEED_HOTLISTED",
    "SEED_NUMBERS",
    "SIMBOX",
    "WANGIRI",
    "Instance",
    "IrsfAttack",
    "Mix",
    "NormalTraffic",
    "Roaming",
    "SimBox",
    "Traffic",
    "WangiriBurst",
    "seed_case",
    "seed_mix",
    "simulate",
    "write_cdrs",
    "write_hotlist",
    "write_labels",
]
