"""Simulated runs shared by the simulator's tests (simulating is deterministic, so sharing one run is safe)."""

from __future__ import annotations

import pytest

from ringfence.simulate import IrsfAttack, Mix, SimBox, Traffic, WangiriBurst, seed_case, simulate


@pytest.fixture(scope="session")
def traffic() -> Traffic:
    """A small day with every scenario: two IRSF attacks, two Wangiri bursts, a SIM box, roaming."""
    return simulate(
        Mix(
            seed=7,
            subscribers=3_000,
            irsf=(IrsfAttack(), IrsfAttack(countries=("CU", "TV"), sims=2, numbers=25, calls=120)),
            wangiri=(WangiriBurst(), WangiriBurst(country="882", targets=150, callback_share=0.1)),
            simbox=(SimBox(),),
        )
    )


@pytest.fixture(scope="session")
def seeded() -> Traffic:
    """The seed's case."""
    return seed_case(seed=3)
