"""Small helpers the tests share."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Keys", "bearer"]


@dataclass
class Keys:
    """One key per role, as the ``keys`` fixture makes them."""

    admin: str
    reporter: str
    reporter2: str
    reader: str


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
