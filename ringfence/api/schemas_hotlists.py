"""Request and response shapes of the hotlist endpoints (/v1/hotlists), for validation and OpenAPI.

An upload of a version is read by the route itself (a file is not a pydantic model); its answer is documented here.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ringfence.api.schemas import BulkError, ErrorDetail
from ringfence.hotlists.models import MAX_WILDCARD_LAST, MIN_SYNC_EVERY_S

__all__ = [
    "CheckAnswer",
    "CheckBatchAnswer",
    "CheckBody",
    "DiffAnswer",
    "EventsAnswer",
    "HotlistAnswer",
    "HotlistBody",
    "HotlistOptionsBody",
    "HotlistsAnswer",
    "ImportAnswer",
    "VersionAnswer",
    "VersionsAnswer",
]

_STRICT = ConfigDict(extra="forbid")


class HotlistOptionsBody(BaseModel):
    model_config = _STRICT
    description: str | None = Field(None, max_length=2000, description="What the list is; empty clears it")
    retain_missing: bool | None = Field(
        None, description="Keep entries in force when a new version no longer publishes them (they often reappear)"
    )
    wildcard_last: int | None = Field(
        None,
        ge=0,
        le=MAX_WILDCARD_LAST,
        description="N > 0: every test number also puts in force the range of its last N digits wildcarded",
    )
    region: str | None = Field(None, description="Country hint for national-format numbers of synced files")
    url: str | None = Field(None, description="http(s) URL polled every every_s seconds; empty stops polling")
    folder: str | None = Field(None, description="A folder on the server whose new files are imported; empty stops")
    every_s: int | None = Field(None, ge=MIN_SYNC_EVERY_S, description="Polling interval of the URL, in seconds")


class HotlistBody(HotlistOptionsBody):
    name: str = Field(description="Lower-case letters, digits, '.', '_' and '-'; it appears in URLs")


class SyncOut(BaseModel):
    url: str | None
    folder: str | None
    every_s: int


class VersionAnswer(BaseModel):
    id: int = Field(description="Grows with every version of any list: the cursor of /v1/hotlists/events")
    hotlist: str
    version: int = Field(description="1, 2, 3, ... per list")
    imported_at: str
    source: str = Field(description="File name, URL, or upload")
    sha256: str = Field(description="SHA-256 of the file as it was received")
    added: int = Field(description="Entries that came into force")
    unchanged: int = Field(description="Entries in force before, published again")
    removed: int = Field(description="Entries no longer published and taken out of force")
    retained: int = Field(description="Entries no longer published, kept in force because the list retains")
    invalid: int = Field(description="Rows refused")
    duplicates: int = Field(description="Rows merged into an entry an earlier row gave")
    derived: int = Field(description="Ranges in force derived from test numbers (wildcard_last)")
    entries: int = Field(description="Entries in force after this version")


class HotlistAnswer(BaseModel):
    name: str
    description: str | None
    retain_missing: bool
    wildcard_last: int
    region: str | None
    sync: SyncOut
    created_at: str
    updated_at: str
    latest_version: VersionAnswer | None


class HotlistsAnswer(BaseModel):
    hotlists: list[HotlistAnswer]


class VersionsAnswer(BaseModel):
    versions: list[VersionAnswer]


class ImportAnswer(VersionAnswer):
    errors: list[BulkError] = Field(description="Refused rows with their line numbers (the first 10,000)")
    ignored_columns: list[str] = Field(description="Columns of the file that were not read")


class EntryOut(BaseModel):
    pattern: str = Field(description="+3725521234 (a number), +3725521?? (a range), +88216* (a prefix)")
    kind: Literal["number", "range", "prefix"]
    derived: bool = Field(description="Only in force as the last-digits range of a test number")
    source: str | None
    first_seen_at: str
    last_seen_at: str = Field(description="When a version last published it")
    first_version: int
    last_version: int


class DiffCounts(BaseModel):
    added: int
    removed: int
    retained: int


class DiffAnswer(BaseModel):
    hotlist: str
    version: int
    against: int = Field(description="0: the empty list before the first version")
    counts: DiffCounts
    added: list[EntryOut] = Field(description="In force in version, not in against")
    removed: list[EntryOut] = Field(description="In force in against, not in version")
    retained: list[EntryOut] = Field(description="In force in version only because the list retains them")


class EventsAnswer(BaseModel):
    versions: list[VersionAnswer] = Field(description="Versions applied after since, oldest first")
    last_id: int = Field(description="Ask again with since=last_id for what comes next")


class MatchOut(EntryOut):
    hotlist: str
    retained: bool = Field(description="In force only because its list retains it")


class CheckAnswer(BaseModel):
    number: str
    hotlisted: bool
    match: MatchOut | None = Field(description="The most specific entry covering the number")
    matches: list[MatchOut] = Field(description="Every entry covering it, most specific first")


class CheckFailure(BaseModel):
    input: str | None
    error: ErrorDetail


class CheckBatchAnswer(BaseModel):
    results: list[CheckAnswer | CheckFailure] = Field(description="One per number, in the order given")


class CheckBody(BaseModel):
    model_config = _STRICT
    numbers: list[str] = Field(description="Up to max_batch numbers, any common format")
    region: str | None = Field(None, description="Region for national-format numbers (default: the server's)")
