"""One way to read a named choice (a status, a verdict, a reason) from outside input, with one error for a bad one."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from ringfence.errors import InvalidInput

__all__ = ["parse_choice"]

E = TypeVar("E", bound=StrEnum)


def parse_choice(kind: type[E], raw: object, what: str, code: str) -> E:
    """The member of ``kind`` named by ``raw`` (case and surrounding space ignored), or ``InvalidInput`` with
    ``code`` naming the input and listing what is allowed."""
    allowed = [item.value for item in kind]
    if isinstance(raw, str):
        try:
            return kind(raw.strip().lower())
        except ValueError:
            pass
    raise InvalidInput(
        f"unknown {what} {raw!r}; expected one of: {', '.join(allowed)}",
        code=code,
        details={"input": raw if isinstance(raw, str) else repr(raw), "allowed": allowed},
    )
