"""Call records from a NATS subject: mediation systems and switches publish, ringfence evaluates.

Records are published on ``<RINGFENCE_CDR_SUBJECT>.<member>`` (the member's id or name), one message being a JSON
record, a JSON array of records, ``{"records": [...]}``, or CSV/JSONL text (CSV with its header); a
``Ringfence-Preset`` header names the layout when it is not the canonical one. A JetStream stream (work-queue
retention, file storage) holds them until a node has evaluated them, so nothing published while every node is down
is lost; the nodes share one durable consumer, and a message is acknowledged only once its alerts are recorded
(redelivered ones record nothing twice: alerts are idempotent). A message for an unknown member, or one whose
payload cannot be read at all, is terminated (never redelivered), logged and, when the member is known, put in
that member's quarantine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any, Final

import nats
import nats.errors
import nats.js.errors
import orjson
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import RetentionPolicy, StorageType, StreamConfig

from ringfence.cdrs.mapping import preset
from ringfence.cdrs.models import Quarantined
from ringfence.daemons import Daemon
from ringfence.errors import RingfenceError
from ringfence.registry.models import Member, Role

if TYPE_CHECKING:
    from ringfence.runtime import Runtime

__all__ = ["DAEMON", "DURABLE", "consume", "handle"]

log = logging.getLogger("ringfence.monitoring")

#: The durable consumer the nodes share.
DURABLE: Final = "ringfence-cdrs"
PRESET_HEADER: Final = "Ringfence-Preset"
_FETCH: Final = 64
_MAX_AGE_S: Final = 7 * 86_400


def _member(runtime: Runtime, token: str) -> Member:
    member = runtime.members.get(int(token) if token.isdigit() else token)
    if not member.role.allows(Role.REPORTER):
        raise RingfenceError(f"member {member.name!r} may not send call records (role {member.role.value})")
    return member


def _json_records(data: bytes) -> list[Any] | None:
    """The records of a JSON payload, or None when the payload is not JSON (then it is CSV/JSONL text)."""
    head = data.lstrip()[:1]
    if head not in (b"{", b"["):
        return None
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None  # JSONL: one object per line
    if isinstance(value, list):
        return value
    if isinstance(value, dict) and set(value) == {"records"} and isinstance(value["records"], list):
        return list(value["records"])
    return [value]


def handle(runtime: Runtime, subject: str, data: bytes, headers: dict[str, str] | None) -> bool:
    """Evaluate one message; False when it must not be redelivered (unknown member, unreadable payload)."""
    prefix = runtime.settings.cdr_subject + "."
    token = subject[len(prefix) :] if subject.startswith(prefix) else ""
    try:
        member = _member(runtime, token)
    except RingfenceError as exc:
        log.warning("cdrs: message on %s dropped: %s", subject, exc.message)
        return False
    source = f"nats:{subject}"
    monitor = runtime.monitor
    try:
        name = (headers or {}).get(PRESET_HEADER)
        mapping = preset(name) if name else None
        records = _json_records(data)
        if records is not None and len(records) > runtime.settings.max_cdr_batch:
            raise RingfenceError(f"{len(records)} records in one message; at most {runtime.settings.max_cdr_batch}")
        if records is None:
            monitor.scan(member, lambda r: r.read_bytes(data), source=source, mapping=mapping)
        else:
            monitor.scan(member, lambda r: r.read_records(records), source=source, mapping=mapping)
    except RingfenceError as exc:
        log.warning("cdrs: message on %s refused: %s", subject, exc.message)
        row = Quarantined(line=0, reason=exc.code, message=exc.message, raw=data[:500].decode("utf-8", "replace"))
        monitor.quarantine.record(member.id, source, [row], runtime.clock.now_ms())
        return False
    return True


async def _ensure_stream(js: JetStreamContext, name: str, subject: str) -> None:
    config = StreamConfig(
        name=name,
        subjects=[f"{subject}.>"],
        retention=RetentionPolicy.WORK_QUEUE,
        storage=StorageType.FILE,
        max_age=_MAX_AGE_S,
    )
    try:
        await js.stream_info(name)
    except nats.js.errors.NotFoundError:
        with contextlib.suppress(nats.js.errors.BadRequestError):  # another node made it meanwhile
            await js.add_stream(config)
            log.info("cdrs: created JetStream stream %s (subjects %s.>)", name, subject)


async def consume(runtime: Runtime, *, stop: asyncio.Event | None = None) -> None:
    """Evaluate published call records until cancelled (or ``stop`` is set)."""
    settings = runtime.settings
    assert settings.nats_url
    client = await nats.connect(
        servers=settings.nats_url.split(","),
        name="ringfence cdrs",
        allow_reconnect=True,
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
    )
    try:
        js = client.jetstream(timeout=5)
        await _ensure_stream(js, settings.cdr_stream, settings.cdr_subject)
        sub = await js.pull_subscribe(f"{settings.cdr_subject}.>", durable=DURABLE, stream=settings.cdr_stream)
        log.info("cdrs: consuming %s.> (stream %s)", settings.cdr_subject, settings.cdr_stream)
        while stop is None or not stop.is_set():
            try:
                messages: list[Msg] = await sub.fetch(_FETCH, timeout=1)
            except (TimeoutError, nats.errors.TimeoutError):
                continue
            for msg in messages:
                headers = dict(msg.headers or {})
                keep = await asyncio.to_thread(handle, runtime, msg.subject, msg.data, headers)
                await (msg.ack() if keep else msg.term())
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.close(), 5)


async def _run(runtime: Runtime) -> None:
    await consume(runtime)


DAEMON = Daemon("cdrs-nats", _run, lambda runtime: bool(runtime.settings.nats_url and runtime.settings.cdr_subject))
