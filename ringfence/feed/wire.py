"""How change batches travel between nodes on the bus: columns of little-endian int64, or a doorbell.

A :class:`~ringfence.feed.models.ChangeBatch` is sent as its twelve columns (seq, at_ms, kind, number, listed, first_ms,
last_ms, report_count, reporter_count, categories, weight, flags), each as raw little-endian 64-bit integers: 96 bytes
per change,
no parsing on arrival. A batch larger than one message (NATS refuses payloads above its ``max_payload``, 1 MB by
default) is split into consecutive pieces, each a batch of its own (``after``/``last`` fit end to end), so a receiver
applies them one after the other as if the writer had made them separately. A batch that would take more than
``max_messages`` pieces (a large bulk import) is not sent at all: a *doorbell* naming its seq range tells the other
nodes to read those changes from the store, which holds them already (they are published only after their commit).

Every message names the node that made it (receivers skip their own), the store it belongs to (receivers skip
messages of another deployment sharing the stream by mistake) and its seq range; ``Nats-Msg-Id`` lets JetStream drop
a duplicate publish.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ringfence.feed.models import ChangeBatch

__all__ = [
    "HEADER_NODE",
    "HEADER_STORE",
    "ROW_BYTES",
    "Doorbell",
    "Message",
    "WireError",
    "decode",
    "doorbell",
    "encode",
]

#: The version of the wire format (the payload layout); a receiver refuses other versions.
FORMAT = "2"  # 2: twelve columns (weight and flags added)
HEADER_FORMAT = "Ringfence-Format"
HEADER_NODE = "Ringfence-Node"
HEADER_STORE = "Ringfence-Store"
HEADER_SEQ = "Ringfence-Seq"  # "<after>-<last>"
HEADER_KIND = "Ringfence-Kind"  # "batch" or "doorbell"
HEADER_MSG_ID = "Nats-Msg-Id"

_COLUMNS = 12
ROW_BYTES = 8 * _COLUMNS
#: Room kept below the server's max payload for the headers.
HEADROOM_BYTES = 2048
_DTYPE = np.dtype("<i8")


class WireError(ValueError):
    """A message that is not a ringfence change message of this format."""


@dataclass(frozen=True)
class Message:
    headers: dict[str, str]
    payload: bytes


@dataclass(frozen=True)
class Doorbell:
    """Changes ``after`` < seq <= ``last`` were committed and are to be read from the store."""

    after: int
    last: int


def _headers(kind: str, node: str, store: str, after: int, last: int) -> dict[str, str]:
    suffix = "" if kind == "batch" else f":{kind}"
    return {
        HEADER_MSG_ID: f"{store}:{after}-{last}{suffix}",
        HEADER_FORMAT: FORMAT,
        HEADER_KIND: kind,
        HEADER_NODE: node,
        HEADER_STORE: store,
        HEADER_SEQ: f"{after}-{last}",
    }


def rows_per_message(max_payload: int) -> int:
    return max(1, (max_payload - HEADROOM_BYTES) // ROW_BYTES)


def doorbell(after: int, last: int, *, node: str, store: str) -> Message:
    return Message(_headers("doorbell", node, store, after, last), b"")


def encode(batch: ChangeBatch, *, node: str, store: str, max_payload: int, max_messages: int) -> list[Message]:
    """``batch`` as the messages to publish, in order: its pieces, or one doorbell when they would be too many."""
    size = len(batch)
    if not size:
        return []
    per = rows_per_message(max_payload)
    if -(-size // per) > max_messages:
        return [doorbell(batch.after, batch.last, node=node, store=store)]
    columns = np.empty((_COLUMNS, size), dtype=_DTYPE)
    for i, column in enumerate(
        (
            batch.seq,
            batch.at_ms,
            batch.kind,
            batch.number,
            batch.listed,
            batch.first_ms,
            batch.last_ms,
            batch.report_count,
            batch.reporter_count,
            batch.categories,
            batch.weight,
            batch.flags,
        )
    ):
        columns[i] = column
    out: list[Message] = []
    for start in range(0, size, per):
        piece = columns[:, start : start + per]
        after, last = int(piece[0, 0]) - 1, int(piece[0, -1])
        out.append(Message(_headers("batch", node, store, after, last), piece.tobytes()))
    return out


def _seq_range(headers: Mapping[str, str]) -> tuple[int, int]:
    raw = headers.get(HEADER_SEQ, "")
    after, _, last = raw.partition("-")
    if not (after.isdigit() and last.isdigit()) or int(after) > int(last):
        raise WireError(f"bad {HEADER_SEQ} header {raw!r}")
    return int(after), int(last)


def decode(headers: Mapping[str, str], payload: bytes) -> ChangeBatch | Doorbell:
    """What a message carries; raises :class:`WireError` for anything else."""
    if headers.get(HEADER_FORMAT) != FORMAT:
        raise WireError(f"unknown {HEADER_FORMAT} {headers.get(HEADER_FORMAT)!r} (this node reads {FORMAT})")
    kind = headers.get(HEADER_KIND)
    after, last = _seq_range(headers)
    if kind == "doorbell":
        return Doorbell(after, last)
    if kind != "batch":
        raise WireError(f"unknown {HEADER_KIND} {kind!r}")
    if not payload or len(payload) % ROW_BYTES:
        raise WireError(f"a batch payload of {len(payload)} bytes is not a whole number of {ROW_BYTES}-byte rows")
    columns = np.frombuffer(payload, dtype=_DTYPE).reshape(_COLUMNS, -1).astype(np.int64)
    seq = columns[0]
    if int(seq[0]) - 1 != after or last - after != len(seq) or not (np.diff(seq) == 1).all():
        raise WireError(f"the payload's seqs are not the consecutive {HEADER_SEQ} {after}-{last}")
    return ChangeBatch(
        seq=seq,
        at_ms=columns[1],
        kind=columns[2],
        number=columns[3],
        listed=columns[4] != 0,
        first_ms=columns[5],
        last_ms=columns[6],
        report_count=columns[7],
        reporter_count=columns[8],
        categories=columns[9],
        weight=columns[10],
        flags=columns[11],
    )
