"""Demo fraud monitoring: a hotlist and a day of simulated traffic of the demo carrier, scanned, so a fresh demo
has incidents to look at (``ringfence serve --demo``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from ringfence.cdrs.reader import CdrRead
from ringfence.monitoring.models import Mode, ScanOutcome
from ringfence.simulate.mix import Mix, simulate

if TYPE_CHECKING:
    from ringfence.runtime import Runtime

__all__ = ["DEMO_HOTLIST", "seed_demo_traffic"]

DEMO_HOTLIST: Final = "demo-irsf"
_HOUR_MS: Final = 3_600_000


def seed_demo_traffic(runtime: Runtime, member_name: str = "demo-carrier", seed: int = 7) -> ScanOutcome | None:
    """When the demo hotlist does not exist yet: create it from a simulated day's attacks (the day before now) and
    scan that day as ``member_name``'s records; None when it was done before."""
    if any(h.name == DEMO_HOTLIST for h in runtime.hotlists.lists()):
        return None
    now = runtime.clock.now_ms()
    start = (now - 24 * _HOUR_MS) // _HOUR_MS * _HOUR_MS
    traffic = simulate(Mix(seed=seed, home=runtime.settings.default_region or "GB", subscribers=2_000, start_ms=start))
    runtime.hotlists.create(None, DEMO_HOTLIST)
    runtime.hotlists.import_file(None, DEMO_HOTLIST, "\n".join(traffic.hotlist).encode(), source="demo")
    member = runtime.members.get(member_name)
    read = CdrRead(frame=traffic.cdrs, quarantined=[], rows=traffic.cdrs.height)
    return runtime.monitor.scan(member, lambda _reader: read, source="demo-day.csv", mode=Mode.BATCH)
