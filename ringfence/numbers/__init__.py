"""``ringfence.numbers``: the one normalisation path every phone number enters through.

Numbers are E.164 digit strings held as ``int`` / ``numpy.int64`` (no ``+``; E.164 never starts with 0, so the
int is unique).  :func:`normalise` / :func:`normalise_many` turn text into such ints with exactly
phonenumbers' acceptance rules (minus vanity letters and extensions); :func:`info` / :func:`info_many` answer
region, type and validity exactly as phonenumbers does, from digit automata compiled from phonenumbers' own
metadata (:mod:`ringfence.numbers.plan`) instead of per-number regex matching.
"""

from ringfence.numbers.batch import normalise_many
from ringfence.numbers.canonical import normalise
from ringfence.numbers.lookup import info, info_many
from ringfence.numbers.normalise import format_e164
from ringfence.numbers.plan import REGIONS, compile_all
from ringfence.numbers.regions import check_region
from ringfence.numbers.types import NUMBER_TYPES, NumberInfo, NumberType

__all__ = [
    "NUMBER_TYPES",
    "REGIONS",
    "NumberInfo",
    "NumberType",
    "check_region",
    "compile_all",
    "format_e164",
    "info",
    "info_many",
    "normalise",
    "normalise_many",
]
