"""A cheap first cut for batch pruning: upper bounds of each group's count and sums, from a hashed count table.

Batch evaluation walks only the (window, key) groups whose totals meet a rule's necessary conditions. An exact
group-by over every filtered record costs a polars hash aggregation per rule (``short_call_ratio`` looks at every
originating call); most groups are tiny, so a coarser question comes first: hash each (window, key) to one of about
``2 * pairs`` buckets and count per bucket with ``numpy.bincount``. Groups sharing a bucket add up, so a bucket's
count (or sum of non-negative values) is at least its groups' own: a group whose bucket fails a threshold fails it
too, and only the rows of buckets that pass go on to the exact group-by.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["Buckets"]

_G1 = np.uint64(0x9E3779B97F4A7C15)
_G2 = np.uint64(0xC2B2AE3D27D4EB4F)
_S29 = np.uint64(29)


class Buckets:
    """The bucket of each (window, key) pair; :meth:`counts` and :meth:`sums` per pair, of its bucket."""

    def __init__(self, windows: npt.NDArray[np.int64], keys: npt.NDArray[np.int64]) -> None:
        bits = min(22, max(12, len(keys).bit_length()))
        with np.errstate(over="ignore"):
            h = keys.view(np.uint64) * _G1 + windows.view(np.uint64) * _G2
            h ^= h >> _S29
            h *= _G1
        self.bucket = (h >> np.uint64(64 - bits)).astype(np.intp)
        self.size = 1 << bits

    def counts(self) -> npt.NDArray[np.int64]:
        return np.bincount(self.bucket, minlength=self.size)[self.bucket]

    def sums(self, values: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """Per pair, the sum of ``values`` (non-negative) over its bucket."""
        sums = np.bincount(self.bucket, weights=values, minlength=self.size).astype(np.float64, copy=False)
        return sums[self.bucket]
