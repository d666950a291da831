"""Checking numbers against the hotlists: text in (any format, a region for national ones), answers out.

Shared by ``GET /v1/hotlists/check/{number}``, ``POST /v1/hotlists/check`` and ``ringfence hotlists check``, so a
number is answered the same way at every door. Numbers go through the one normalisation path in a batch; an
unusable one gets its own error (``{"input", "error"}``) and the rest still answer, in the order given.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ringfence.errors import TooLarge
from ringfence.hotlists.service import HotlistService
from ringfence.hotlists.views import check_view, match_view
from ringfence.numbers import normalise, normalise_many

__all__ = ["check_many", "check_one"]


def check_one(service: HotlistService, raw: str, region: str | None) -> dict[str, Any]:
    """The answer for one number; an unusable number raises its :class:`~ringfence.errors.InvalidNumber`."""
    number = normalise(raw, region)
    return check_view(number, [match_view(m, retained=service.retained(m.entry)) for m in service.check(number)])


def check_many(
    service: HotlistService, raws: Sequence[object], region: str | None, *, limit: int
) -> list[dict[str, Any]]:
    """One answer per input, in order: the check answer, or ``{"input", "error"}``. More than ``limit`` numbers
    are refused (``batch_too_large``)."""
    if len(raws) > limit:
        raise TooLarge(
            f"{len(raws)} numbers in one request; at most {limit}",
            code="batch_too_large",
            details={"count": len(raws), "limit": limit},
        )
    values, errors = normalise_many(raws, region)
    found = service.check_many(values)
    answers: list[dict[str, Any]] = []
    for i, matches in enumerate(found):
        error = errors.get(i)
        if error is not None:
            answers.append({"input": error.details.get("input"), "error": error.to_dict()})
            continue
        views = [match_view(m, retained=service.retained(m.entry)) for m in matches]
        answers.append(check_view(int(values[i]), views))
    return answers
