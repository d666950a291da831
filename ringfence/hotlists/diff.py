"""Diffs between any two versions of a list, computed from the change log of its versions.

An entry arrives in force with its first version (``first_version``); after that the log holds one row per
transition (added back, removed, retained, republished). So the state of every entry at version N is its newest
event at or before N, its arrival counting as ``added``: in force after ``added``, ``retained`` or ``republished``,
out of force after ``removed``, and retained (in force, not published) after ``retained``. Nothing per version is
stored beyond what changed, however large the lists are.
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import itemgetter

from ringfence.hotlists.models import ChangeKind

__all__ = ["VersionState", "states_at"]

_IN_FORCE = frozenset({ChangeKind.ADDED, ChangeKind.RETAINED, ChangeKind.REPUBLISHED})


class VersionState:
    """The entries in force at one version, and which of them were only retained."""

    __slots__ = ("in_force", "retained")

    def __init__(self) -> None:
        self.in_force: set[int] = set()
        self.retained: set[int] = set()


def states_at(
    arrivals: Iterable[tuple[int, int]], log: Iterable[tuple[int, int, int]], versions: Iterable[int]
) -> dict[int, VersionState]:
    """The state of the list at each of ``versions`` (0: before its first version, empty), from its entries'
    arrivals ``(first version, entry id)`` and its change log ``(version, entry id, kind)``, in any order."""
    events = [(v, e, int(ChangeKind.ADDED)) for v, e in arrivals]
    events.extend(log)
    events.sort(key=itemgetter(0))  # stable: an arrival comes before the changes of a later version anyway
    wanted = sorted(set(versions))
    states = {v: VersionState() for v in wanted}
    last: dict[int, int] = {}
    pending = list(wanted)

    def snapshot(at: int) -> None:
        state = states[at]
        for entry_id, kind in last.items():
            if kind in _IN_FORCE:
                state.in_force.add(entry_id)
                if kind == ChangeKind.RETAINED:
                    state.retained.add(entry_id)

    for version, entry_id, kind in events:
        while pending and pending[0] < version:
            snapshot(pending.pop(0))
        last[entry_id] = kind
    for at in pending:
        snapshot(at)
    return states
