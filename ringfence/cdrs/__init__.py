"""Call detail records in: readers, column mappings and presets, quarantine of bad rows, and live sources."""

from ringfence.cdrs.mapping import PRESETS, CdrMapping, load_mapping, preset
from ringfence.cdrs.models import CDR_COLUMNS, CDR_SCHEMA, Cdr, Direction, Quarantined
from ringfence.cdrs.reader import CdrInput, CdrRead, CdrReader

__all__ = [
    "CDR_COLUMNS",
    "CDR_SCHEMA",
    "PRESETS",
    "Cdr",
    "CdrInput",
    "CdrMapping",
    "CdrRead",
    "CdrReader",
    "Direction",
    "Quarantined",
    "load_mapping",
    "preset",
]
