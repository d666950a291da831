"""The never-list's guard on the registry: a report of a protected number is refused, with the reason."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ringfence.allowlists.service import AllowlistService
from ringfence.allowlists.views import protection_view
from ringfence.errors import InvalidInput, RingfenceError

__all__ = ["refusals"]


def refusals(allowlists: AllowlistService, numbers: npt.NDArray[np.int64]) -> dict[int, RingfenceError]:
    """Position -> why, for each of ``numbers`` that the never-list covers (one vectorised check for a batch)."""
    index, protections = allowlists.protected_many(numbers)
    refused: dict[int, RingfenceError] = {}
    for position in np.flatnonzero(index >= 0).tolist():
        protection = protections[int(index[position])]
        refused[position] = InvalidInput(
            f"+{int(numbers[position])} is on the never-list ({protection.kind.value}, {protection.pattern}) "
            "and cannot be reported",
            code="never_listed",
            details={"number": f"+{int(numbers[position])}", "never_list": protection_view(protection)},
        )
    return refused
