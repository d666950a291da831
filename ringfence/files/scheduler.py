"""Scheduled files: a full snapshot every ``snapshot_interval`` seconds, a delta every ``delta_interval`` seconds.

The schedule starts from the drop folder itself (the newest full snapshot's and the newest set's ``created_at``),
so a restarted server neither rewrites a fresh snapshot nor skips an overdue one. The writing itself is blocking
(the store, numpy, gzip) and runs in a worker thread; the event loop only sleeps.

* The first set of an empty folder is a full snapshot, whatever the intervals: a delta needs something to follow.
* A delta that would be empty is not written.
* A delta the feed cannot give any more (its retention deleted the changes) is replaced by a full snapshot.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from ringfence.daemons import Daemon
from ringfence.errors import Gone
from ringfence.files.manifest import FileSet
from ringfence.files.snapshots import Snapshots

if TYPE_CHECKING:
    from ringfence.runtime import Runtime

__all__ = ["DAEMON", "Schedule"]

log = logging.getLogger("ringfence.files")

#: Longest sleep between two looks at the clock, in seconds (a changed clock is noticed within this time).
MAX_SLEEP_S: Final = 60.0
#: Pause after a failed write before the next attempt, in seconds.
RETRY_S: Final = 60.0


@dataclass
class Schedule:
    """When the next full snapshot and delta are due (epoch ms); :meth:`tick` writes what is due."""

    snapshots: Snapshots
    full_every_s: int
    delta_every_s: int
    next_full_ms: int | None = None
    next_delta_ms: int | None = None

    def __post_init__(self) -> None:
        sets = self.snapshots.drop.sets()
        fulls = [s for s in sets if s.kind == "full"]
        now = self.snapshots.clock.now_ms()
        if self.full_every_s:
            self.next_full_ms = fulls[-1].created_ms + self.full_every_s * 1000 if fulls else now
        if self.delta_every_s:
            newest = max((s.created_ms for s in sets), default=None)
            self.next_delta_ms = now if newest is None else newest + self.delta_every_s * 1000

    def tick(self) -> tuple[FileSet | None, float]:
        """Write what is due; returns the set written (if any) and the seconds until the next one is due."""
        now = self.snapshots.clock.now_ms()
        written: FileSet | None = None
        full_due = self.next_full_ms is not None and now >= self.next_full_ms
        delta_due = self.next_delta_ms is not None and now >= self.next_delta_ms
        if full_due or (delta_due and self.snapshots.drop.latest() is None):
            written, _new = self.snapshots.write_full()
            self._after_full(now)
        elif delta_due:
            try:
                written = self.snapshots.write_delta()
            except Gone as exc:
                log.warning("%s: writing a full snapshot instead of the delta", exc.message)
                written, _new = self.snapshots.write_full()
                self._after_full(now)
            self.next_delta_ms = now + self.delta_every_s * 1000
        due = [t for t in (self.next_full_ms, self.next_delta_ms) if t is not None]
        wait = (min(due) - self.snapshots.clock.now_ms()) / 1000 if due else MAX_SLEEP_S
        return written, max(wait, 0.0)

    def _after_full(self, now: int) -> None:
        if self.full_every_s:
            self.next_full_ms = now + self.full_every_s * 1000
        if self.delta_every_s:  # a delta right after a full snapshot would be empty
            self.next_delta_ms = now + self.delta_every_s * 1000


async def _run(runtime: Runtime) -> None:
    settings = runtime.settings
    snapshots = Snapshots.for_runtime(runtime)
    schedule = await asyncio.to_thread(Schedule, snapshots, settings.snapshot_interval, settings.delta_interval)
    log.info(
        "files: full snapshot every %s, delta every %s, into %s",
        f"{settings.snapshot_interval} s" if settings.snapshot_interval else "(off)",
        f"{settings.delta_interval} s" if settings.delta_interval else "(off)",
        snapshots.drop.root,
    )
    while True:
        try:
            _written, wait = await asyncio.to_thread(schedule.tick)
        except Exception:
            log.exception("files: writing a scheduled file failed; trying again in %.0f s", RETRY_S)
            wait = RETRY_S
        await asyncio.sleep(min(max(wait, 0.05), MAX_SLEEP_S))


DAEMON = Daemon(
    "files",
    _run,
    lambda runtime: bool(runtime.settings.snapshot_interval or runtime.settings.delta_interval),
)
