"""Demo data: members of each role and a few hundred listings, so a fresh install has something to query.

Numbers come from ranges reserved for drama and documentation (Ofcom's +44 20 7946 0xxx, NANP 555-01xx), so the demo
never names a real subscriber.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ringfence.registry.members import MemberService
from ringfence.registry.models import Category, Member, NewReport, Role
from ringfence.registry.service import RegistryService

__all__ = ["DemoKeys", "seed_demo"]

DEMO_MEMBERS = (
    ("demo-admin", Role.ADMIN),
    ("demo-carrier", Role.REPORTER),
    ("demo-bank", Role.REPORTER),
    ("demo-contact-centre", Role.READER),
)
_DAY_MS = 86_400_000


@dataclass(frozen=True)
class DemoKeys:
    """Keys made for this start (keys are stored hashed, so each start of the demo issues fresh ones)."""

    keys: dict[str, str]
    sample_number: str


def _demo_numbers() -> list[int]:
    london = [442079460000 + i for i in range(1000)]
    nanp = [1_201_555_0100 + i for i in range(100)] + [1_212_555_0100 + i for i in range(100)]
    return london + nanp


def _age(draw: int) -> int:
    """How long ago a demo report was made, from one draw in [0, 30 days): four in five within the last day
    (listed), the rest within ten days (some decayed, so lookups show both)."""
    return draw // 30 if draw % 5 else draw // 3


def seed_demo(members: MemberService, registry: RegistryService, seed: int = 7) -> DemoKeys:
    """Create the demo members and listings when missing; always return fresh keys for each demo member."""
    existing = {m.name: m for m in members.all()}
    keys: dict[str, str] = {}
    reporters: list[Member] = []
    for name, role in DEMO_MEMBERS:
        member = existing.get(name)
        if member is None:
            member, key = members.add(name, role)
        else:
            key = members.create_key(member)
        keys[name] = key
        if role is Role.REPORTER:
            reporters.append(member)
    if registry.listing_count() == 0:
        rng = random.Random(seed)
        now = registry.clock.now_ms()
        categories = list(Category)
        numbers = _demo_numbers()
        for reporter in reporters:
            picked = rng.sample(numbers, 250)
            registry.report_many(
                reporter,
                (
                    (
                        line,
                        NewReport(
                            number=n,
                            category=rng.choice(categories),
                            occurred_ms=now - _age(rng.randrange(30 * _DAY_MS)),
                            note="demo data",
                        ),
                    )
                    for line, n in enumerate(picked, start=1)
                ),
            )
    found = registry.assess
    sample = next((n.number for n in registry.iter_listings() if (a := found(n.number)) and a.listed), None)
    return DemoKeys(keys=keys, sample_number=f"+{sample or 442079460018}")
