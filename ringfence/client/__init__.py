"""``ringfence.client``: the Python client members integrate with (see docs/client.md).

    from ringfence.client import RingfenceClient

    with RingfenceClient("https://ringfence.example.net", key) as client:
        result = client.lookup("+44 20 7946 0018")
        if result.listed:
            print(result.listing.categories)
        for change in client.changes(categories=["irsf"]):
            print(change.seq, change.kind, change.number)

It needs only httpx and orjson: importing it does not load the server (no database, no numbering-plan tables).
"""

from ringfence.client.aio import AsyncRingfenceClient
from ringfence.client.client import RingfenceClient
from ringfence.client.errors import (
    AuthError,
    ClientError,
    ConflictError,
    FeedExpired,
    InvalidInputError,
    NotFoundError,
    ServerError,
    TooLargeError,
    TransportError,
    UnexpectedAnswer,
)
from ringfence.client.models import (
    BulkLineError,
    BulkResult,
    Change,
    ChangesPage,
    Listing,
    LookupFailure,
    LookupResult,
    NewReport,
    NumberInfo,
    Report,
    ReportResult,
    ReportsPage,
)
from ringfence.client.sse import ServerSentEvent, SSEParser
from ringfence.client.stream import AsyncChangeStream, ChangeStream

__all__ = [
    "AsyncChangeStream",
    "AsyncRingfenceClient",
    "AuthError",
    "BulkLineError",
    "BulkResult",
    "Change",
    "ChangeStream",
    "ChangesPage",
    "ClientError",
    "ConflictError",
    "FeedExpired",
    "InvalidInputError",
    "Listing",
    "LookupFailure",
    "LookupResult",
    "NewReport",
    "NotFoundError",
    "NumberInfo",
    "Report",
    "ReportResult",
    "ReportsPage",
    "RingfenceClient",
    "SSEParser",
    "ServerError",
    "ServerSentEvent",
    "TooLargeError",
    "TransportError",
    "UnexpectedAnswer",
]
