"""Lookup answers as a member gets them: the registry's assessment of a number, shaped by the never-list and by the
asking member's own allow and deny lists (``ringfence.allowlists``).

The registry knows nothing of allowlists and the allowlists nothing of scores; every front door (HTTP routes, the
fast paths, the CLI) asks here, so a number is answered the same way wherever it is asked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ringfence.allowlists.views import protection_view
from ringfence.registry.assess import DEFAULT_OPTIONS, LookupOptions
from ringfence.registry.lookups import BatchAnswer, Screen, lookup_batch
from ringfence.registry.views import lookup_answer

if TYPE_CHECKING:
    from ringfence.runtime import Runtime

__all__ = ["answer_batch", "answer_one"]


def answer_one(
    runtime: Runtime, number: int, member_id: int | None, options: LookupOptions = DEFAULT_OPTIONS
) -> dict[str, Any]:
    """The answer for one number, asked by ``member_id`` (None: the operator, on the local database)."""
    allowlists = runtime.allowlists
    protection = allowlists.protected(number)
    member_list = allowlists.member_list(member_id, number) if member_id is not None else None
    return lookup_answer(
        number,
        runtime.registry.assess(number, options),
        options,
        never_list=protection_view(protection) if protection is not None else None,
        member_list=None if member_list is None else str(member_list),
    )


def _screen(runtime: Runtime, member_id: int | None) -> Callable[[npt.NDArray[np.int64]], Screen]:
    def screen(numbers: npt.NDArray[np.int64]) -> Screen:
        index, protections = runtime.allowlists.protected_many(numbers)
        if member_id is None:
            lists = np.zeros(len(numbers), np.int8)
        else:
            lists = runtime.allowlists.member_list_many(member_id, numbers)
        return Screen(index, [protection_view(p) for p in protections], lists)

    return screen


def answer_batch(
    runtime: Runtime,
    raws: Sequence[object],
    region: str | None,
    member_id: int | None,
    options: LookupOptions = DEFAULT_OPTIONS,
) -> BatchAnswer:
    """The answers for a batch (render with ``.to_json()`` or ``.answers()``)."""
    return lookup_batch(runtime.registry, raws, region, options, _screen(runtime, member_id))
