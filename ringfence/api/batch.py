"""``POST /v1/numbers/lookup`` bodies: read without pydantic when well formed, and answered as JSON bytes.

Shared by the FastAPI route (which documents the operation and serves it when the fast path is off) and by the fast
path of :mod:`ringfence.api.fast`, so both give the same answers and the same errors.
"""

from __future__ import annotations

import orjson

from ringfence.answers import answer_batch
from ringfence.api.schemas import LookupRequest
from ringfence.errors import TooLarge
from ringfence.numbers.regions import check_region
from ringfence.runtime import Runtime

__all__ = ["answer_lookup", "parse_lookup"]


def parse_lookup(raw: bytes) -> LookupRequest | None:
    """The common well-formed body, checked without pydantic (10,000 strings cost it a millisecond); None for
    anything else, which is then left to pydantic's validation and its error answer."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if type(data) is not dict or not data.keys() <= {"numbers", "region"}:
        return None  # options and anything unusual: pydantic checks them
    numbers, region = data.get("numbers"), data.get("region")
    if type(numbers) is not list or not (region is None or type(region) is str):
        return None
    if numbers and set(map(type, numbers)) != {str}:
        return None
    return LookupRequest.model_construct(numbers=numbers, region=region, include_decayed=False, explain=False)


def answer_lookup(runtime: Runtime, body: LookupRequest, member_id: int | None) -> bytes:
    """The answer to a batch lookup, as JSON bytes; TooLarge over the batch limit, InvalidInput for a bad region."""
    limit = runtime.settings.max_batch
    if len(body.numbers) > limit:
        raise TooLarge(
            f"{len(body.numbers)} numbers in one request; at most {limit}",
            code="batch_too_large",
            details={"count": len(body.numbers), "limit": limit},
        )
    region = check_region(body.region) or runtime.settings.default_region
    return answer_batch(runtime, body.numbers, region, member_id, body.options()).to_json()
