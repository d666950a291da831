"""The reassigned/disconnected numbers feed: rows of (number, disconnect date[, type]) in the shape of the FCC
Reassigned Numbers Database, as CSV or JSONL files (gzip too) or JSON objects, applied to the registry.

A listing whose reports predate a number's disconnection is about the previous subscriber: those reports are retired
(reason ``owner_change``) and the listing goes when none is left; a port after the last report only lowers the score.
The rules live in :mod:`ringfence.registry.disconnects`; this package reads and validates feeds (``reader``,
``dates``, ``rows``) and streams them to :meth:`RegistryService.apply_disconnects` (``importer``).
"""

from ringfence.reassigned.dates import DATE_FORMATS, parse_disconnect_date
from ringfence.reassigned.importer import DEFAULT_CHUNK, apply_objects, import_disconnects, outcome_view
from ringfence.reassigned.reader import COLUMN_NAMES, RawChunk, read_chunks, read_objects
from ringfence.reassigned.rows import KINDS, RowParser

__all__ = [
    "COLUMN_NAMES",
    "DATE_FORMATS",
    "DEFAULT_CHUNK",
    "KINDS",
    "RawChunk",
    "RowParser",
    "apply_objects",
    "import_disconnects",
    "outcome_view",
    "parse_disconnect_date",
    "read_chunks",
    "read_objects",
]
