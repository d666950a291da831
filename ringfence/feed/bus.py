"""The change bus between serving nodes: NATS JetStream, the fast path beside the store.

Several nodes share one PostgreSQL. Each change is committed to the store first (``changes``, numbered gap-free in
commit order, see :mod:`ringfence.feed.log`); then the node that made it publishes it on the bus, and every other node
hands it to :meth:`ChangeFeed.received <ringfence.feed.service.ChangeFeed.received>`, which applies it to its index
and its stream subscribers if it follows on from what the node has applied, and otherwise reads the store from there.
So the bus only makes changes arrive sooner: a message lost, duplicated, reordered or never sent costs a store read,
never a wrong answer, and the ``feed-follow`` poll catches whatever the bus did not bring.

:class:`NatsBus` is the daemon of one node:

* it connects (reconnecting for ever, logging each change of state) and makes sure the JetStream stream exists
  (file storage, kept as long as the change feed keeps changes);
* a ``feed.on_local`` callback hands each batch this node committed to the event loop (the writer is a worker
  thread; it never waits) and a publisher task sends it (:mod:`ringfence.feed.wire`: split to fit NATS's payload
  limit, or a doorbell for a bulk import). While NATS is away batches are not queued but counted, and their seq
  range remembered: once it is back a doorbell tells the other nodes to read that range from the store;
* an ephemeral push consumer delivers what other nodes published (its own messages, and those of another store
  sharing the stream by mistake, are skipped); after each (re)connection it is created again, resuming from the last
  stream message seen when the stream still holds it, and the node reads the store for anything it missed.

``/ready`` shows the node's identity and the bus state (:func:`node_status`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
import weakref
from typing import TYPE_CHECKING, Any

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
    StreamInfo,
)
from sqlalchemy import Engine, text

from ringfence.daemons import Daemon
from ringfence.feed import wire
from ringfence.feed.models import ChangeBatch
from ringfence.feed.service import ChangeFeed

if TYPE_CHECKING:
    from ringfence.config import Settings
    from ringfence.runtime import Runtime

__all__ = ["BUS", "NatsBus", "node_id", "node_status", "store_identity"]

log = logging.getLogger("ringfence.bus")

#: Local batches waiting to be published; beyond this they are dropped (and announced by a doorbell later).
QUEUE_SIZE = 10_000
#: A batch that needs more messages than this is announced by a doorbell instead (receivers read the store).
MAX_MESSAGES_PER_BATCH = 16
#: Seconds to wait for JetStream to acknowledge a publish, and for its API (stream and consumer management).
TIMEOUT_S = 2.0
#: Seconds between reconnection attempts (for ever).
RECONNECT_WAIT_S = 0.5
#: Seconds between client pings: a connection that went silent is noticed after two unanswered ones.
PING_INTERVAL_S = 10
#: Seconds between checks that this node's consumer still exists while connected.
WATCH_EVERY_S = 5.0
#: The server removes a consumer whose node has gone after this many seconds without interest.
CONSUMER_INACTIVE_S = 60.0
#: JetStream drops a second publish with the same Nats-Msg-Id within this many seconds.
DUPLICATE_WINDOW_S = 120.0
#: While a doorbell is owed, how often the publisher tries to ring it, in seconds.
RING_RETRY_S = 0.2
#: Key of the store's identity in ``feed_state``.
_STORE_ID = "store_id"

_NODES: weakref.WeakKeyDictionary[ChangeFeed, str] = weakref.WeakKeyDictionary()
_BUSES: weakref.WeakKeyDictionary[ChangeFeed, NatsBus] = weakref.WeakKeyDictionary()


def node_id(feed: ChangeFeed) -> str:
    """This node's name: the host name and a random suffix, fixed for the life of the feed (i.e. the process)."""
    found = _NODES.get(feed)
    if found is None:
        found = _NODES.setdefault(feed, f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}")
    return found


def node_status(feed: ChangeFeed) -> dict[str, Any]:
    """The node's identity and how changes reach it from other nodes (for ``/ready``)."""
    bus = _BUSES.get(feed)
    return {
        "node": node_id(feed),
        "applied": feed.applied,
        "bus": {"transport": "in-process"} if bus is None else bus.status(),
    }


def store_identity(engine: Engine) -> str:
    """A random identity of the store, made once and kept in it: every node on the same store reads the same one."""
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO feed_state (name, value) VALUES (:name, :value) ON CONFLICT (name) DO NOTHING"),
            {"name": _STORE_ID, "value": secrets.randbits(62)},
        )
        value = conn.execute(text("SELECT value FROM feed_state WHERE name = :name"), {"name": _STORE_ID}).scalar()
    return f"{int(value or 0):016x}"


def _shown(client: Client) -> str:
    """The server the client is connected to, without credentials."""
    url = client.connected_url
    return "?" if url is None else f"{url.scheme}://{url.hostname}:{url.port}"


def _describe(exc: BaseException) -> str:
    message = str(exc).strip()
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


class NatsBus:
    """One node's end of the bus (see the module docstring). :meth:`run` serves until cancelled."""

    def __init__(
        self,
        feed: ChangeFeed,
        settings: Settings,
        *,
        max_messages: int = MAX_MESSAGES_PER_BATCH,
        queue_size: int = QUEUE_SIZE,
    ) -> None:
        self.feed = feed
        self.servers = (settings.nats_url or "").split(",")
        self.stream = settings.nats_stream
        self.subject = settings.nats_subject
        self.max_age_s = float(max(settings.change_retention, 0))
        self.max_messages = max_messages
        self.queue_size = queue_size
        self.node = node_id(feed)
        self.store = ""
        # state shown in /ready (touched on the event loop only)
        self.connected = False
        self.consuming = False  # this node's consumer is in place (and the store was read after it was made)
        self.server: str | None = None
        self.last_error: str | None = None
        self.last_error_ms: int | None = None
        self.published = 0  # messages acknowledged by JetStream
        self.received = 0  # messages of other nodes handed to the feed
        self.dropped = 0  # local batches not published (NATS away, queue full, publish failed)
        self.skipped = 0  # messages of another store on the same stream
        self.reconnects = 0
        # internals
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: Client | None = None
        self._queue: asyncio.Queue[ChangeBatch] | None = None
        self._resync = asyncio.Event()
        self._missed: tuple[int, int] | None = None  # seq range of dropped batches, for the next doorbell
        self._stream_seq = 0  # the newest stream message this node's consumer delivered
        _BUSES[feed] = self

    @classmethod
    def of(cls, runtime: Runtime) -> NatsBus:
        """The bus of ``runtime``'s feed (made on first use; a restarted daemon keeps its counters and node id)."""
        return _BUSES.get(runtime.feed) or cls(runtime.feed, runtime.settings)

    def status(self) -> dict[str, Any]:
        return {
            "transport": "nats",
            "connected": self.connected,
            "consuming": self.consuming,
            "server": self.server,
            "stream": self.stream,
            "subject": self.subject,
            "published": self.published,
            "received": self.received,
            "dropped": self.dropped,
            "skipped_other_store": self.skipped,
            "reconnects": self.reconnects,
            "last_error": self.last_error,
            "last_error_at_ms": self.last_error_ms,
        }

    # --- the writer's side (any thread) ------------------------------------------------------------------------
    def _on_local(self, batch: ChangeBatch) -> None:
        """``feed.on_local``: hand the batch to the event loop; never blocks the writer."""
        loop = self._loop
        if loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop is closed: the node is shutting down
            loop.call_soon_threadsafe(self._offer, batch)

    def _offer(self, batch: ChangeBatch) -> None:
        queue = self._queue
        if queue is None or not self.connected:
            self._miss(batch.after, batch.last)
            return
        try:
            queue.put_nowait(batch)
        except asyncio.QueueFull:
            self._miss(batch.after, batch.last)

    def _miss(self, after: int, last: int) -> None:
        self.dropped += 1
        if self._missed is None:
            self._missed = (after, last)
        else:
            self._missed = (min(self._missed[0], after), max(self._missed[1], last))

    # --- running ---------------------------------------------------------------------------------------------------
    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue(self.queue_size)
        self._resync = asyncio.Event()
        self.store = await asyncio.to_thread(store_identity, self.feed.log.engine)
        self.feed.on_local.append(self._on_local)
        client = self._client = Client()
        try:
            log.info("bus: node %s connecting to NATS (stream %s, subject %s)", self.node, self.stream, self.subject)
            await client.connect(
                servers=self.servers,
                name=f"ringfence {self.node}",
                error_cb=self._error_cb,
                disconnected_cb=self._disconnected_cb,
                reconnected_cb=self._reconnected_cb,
                closed_cb=self._closed_cb,
                allow_reconnect=True,
                max_reconnect_attempts=-1,
                reconnect_time_wait=RECONNECT_WAIT_S,  # type: ignore[arg-type]  # seconds, fractions work
                connect_timeout=int(TIMEOUT_S),
                ping_interval=PING_INTERVAL_S,
            )
            self._up(client, reconnected=False)
            js = client.jetstream(timeout=TIMEOUT_S)
            publisher = asyncio.create_task(self._publish(client, js), name="ringfence:bus-publish")
            try:
                await self._follow(client, js)
            finally:
                publisher.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await publisher
        finally:
            with contextlib.suppress(ValueError):
                self.feed.on_local.remove(self._on_local)
            self.connected = False
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.close(), TIMEOUT_S)
            self._queue = None

    # --- connection state ----------------------------------------------------------------------------------------
    def _up(self, client: Client, *, reconnected: bool) -> None:
        self.connected = True
        self.server = _shown(client)
        if reconnected:
            self.reconnects += 1
            log.warning("bus: NATS is back (%s); catching up from the store", self.server)
            self._resync.set()
        else:
            log.info("bus: connected to NATS at %s as node %s", self.server, self.node)

    def _note_error(self, what: str) -> None:
        if what != self.last_error:
            log.warning("bus: %s", what)
        self.last_error = what
        self.last_error_ms = int(time.time() * 1000)

    async def _error_cb(self, exc: Exception) -> None:
        self._note_error(_describe(exc))

    async def _disconnected_cb(self) -> None:
        if self.connected:
            log.warning(
                "bus: lost NATS at %s; serving from the index, changes of other nodes come from the store "
                "until it is back (reconnecting every %.1f s)",
                self.server,
                RECONNECT_WAIT_S,
            )
        self.connected = self.consuming = False

    async def _reconnected_cb(self) -> None:
        if self._client is not None:
            self._up(self._client, reconnected=True)

    async def _closed_cb(self) -> None:
        self.connected = self.consuming = False

    # --- receiving -----------------------------------------------------------------------------------------------
    async def _follow(self, client: Client, js: JetStreamContext) -> None:
        """(Re)create the stream and this node's consumer after each connection, then read the store."""
        while True:
            sub: JetStreamContext.PushSubscription | None = None
            try:
                self._resync.clear()
                info = await self._ensure_stream(js)
                sub = await self._subscribe(js, info)
                caught = await asyncio.to_thread(self.feed.catch_up)
                if caught:
                    log.info("bus: %d changes read from the store (seq %d)", caught, self.feed.applied)
                self.consuming = True
                await self._watch(sub)
            except (nats.errors.Error, TimeoutError) as exc:
                self._note_error(_describe(exc))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._resync.wait(), WATCH_EVERY_S if client.is_connected else 1.0)
            finally:
                self.consuming = False
                if sub is not None:
                    with contextlib.suppress(Exception):
                        await sub.unsubscribe()

    async def _ensure_stream(self, js: JetStreamContext) -> StreamInfo:
        """The stream, created or updated to carry our subject for ``change_retention`` (idempotent)."""
        wanted = StreamConfig(
            name=self.stream,
            subjects=[self.subject],
            retention=RetentionPolicy.LIMITS,
            discard=DiscardPolicy.OLD,
            storage=StorageType.FILE,
            max_age=self.max_age_s,
            duplicate_window=min(DUPLICATE_WINDOW_S, self.max_age_s) if self.max_age_s else DUPLICATE_WINDOW_S,
        )
        try:
            info = await js.stream_info(self.stream)
        except nats.js.errors.NotFoundError:
            try:
                created = await js.add_stream(wanted)
                log.info("bus: created JetStream stream %s (subject %s)", self.stream, self.subject)
                return created
            except nats.js.errors.BadRequestError as exc:  # another node made it meanwhile, or the subject is taken
                try:
                    info = await js.stream_info(self.stream)
                except nats.js.errors.NotFoundError:
                    raise exc from None
        config = info.config
        subjects = list(config.subjects or [])
        if self.subject in subjects and (config.max_age or 0) == self.max_age_s:
            return info
        config.subjects = sorted({*subjects, self.subject})
        config.max_age = self.max_age_s
        try:
            updated = await js.update_stream(config)
            log.info("bus: updated JetStream stream %s (subjects %s)", self.stream, ", ".join(config.subjects))
            return updated
        except nats.js.errors.APIError as exc:
            self._note_error(f"stream {self.stream} could not be updated ({_describe(exc)}); using it as it is")
            return info

    async def _subscribe(self, js: JetStreamContext, info: StreamInfo) -> JetStreamContext.PushSubscription:
        resume = self._stream_seq + 1
        if self._stream_seq and info.state.first_seq <= resume <= info.state.last_seq + 1:
            policy, start = DeliverPolicy.BY_START_SEQUENCE, resume  # what came while we were away, from the stream
        else:
            policy, start = DeliverPolicy.NEW, None  # first start, or the stream is not the one we read before
        config = ConsumerConfig(
            deliver_policy=policy,
            opt_start_seq=start,
            ack_policy=AckPolicy.NONE,
            inactive_threshold=CONSUMER_INACTIVE_S,
            mem_storage=True,
            num_replicas=1,
        )
        return await js.subscribe(self.subject, stream=self.stream, config=config, cb=self._deliver)

    async def _watch(self, sub: JetStreamContext.PushSubscription) -> None:
        """Return when the consumer must be made again: after a reconnection, or when the server lost it."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._resync.wait(), WATCH_EVERY_S)
                return
            try:
                await sub.consumer_info()
            except nats.js.errors.NotFoundError:
                log.warning("bus: this node's consumer is gone from stream %s; making it again", self.stream)
                return
            except (nats.errors.Error, TimeoutError):
                continue  # NATS is away: the reconnection will tell

    async def _deliver(self, msg: Msg) -> None:
        """One message from the stream, in stream order (nats-py calls this for one message at a time)."""
        with contextlib.suppress(Exception):
            self._stream_seq = msg.metadata.sequence.stream
        headers = msg.headers or {}
        if headers.get(wire.HEADER_NODE) == self.node:
            return
        if headers.get(wire.HEADER_STORE) != self.store:
            if not self.skipped:
                log.error(
                    "bus: stream %s carries changes of another store (%s); skipped. Give each deployment its own "
                    "RINGFENCE_NATS_STREAM and RINGFENCE_NATS_SUBJECT",
                    self.stream,
                    headers.get(wire.HEADER_STORE),
                )
            self.skipped += 1
            return
        try:
            what = wire.decode(headers, msg.data)
        except wire.WireError as exc:
            self._note_error(f"unreadable message on {msg.subject} ({exc}); reading the store instead")
            what = None
        self.received += 1
        if isinstance(what, ChangeBatch):
            await asyncio.to_thread(self.feed.received, what)
        elif what is None or what.last > self.feed.applied:
            await asyncio.to_thread(self.feed.catch_up)

    # --- publishing ------------------------------------------------------------------------------------------------
    async def _publish(self, client: Client, js: JetStreamContext) -> None:
        """Send local batches in commit order; a doorbell for whatever could not be sent, once NATS is there."""
        queue = self._queue
        assert queue is not None
        while True:
            if self._missed is not None and client.is_connected:
                after, last = self._missed
                rung = await self._send(js, wire.doorbell(after, last, node=self.node, store=self.store))
                if rung and self._missed == (after, last):
                    self._missed = None
            try:
                batch = await asyncio.wait_for(queue.get(), None if self._missed is None else RING_RETRY_S)
            except TimeoutError:
                continue
            if not client.is_connected:
                self._miss(batch.after, batch.last)
                continue
            messages = wire.encode(
                batch,
                node=self.node,
                store=self.store,
                max_payload=client.max_payload,
                max_messages=self.max_messages,
            )
            for message in messages:
                if not await self._send(js, message):
                    self._miss(int(message.headers[wire.HEADER_SEQ].split("-")[0]), batch.last)
                    break

    async def _send(self, js: JetStreamContext, message: wire.Message) -> bool:
        try:
            await js.publish(self.subject, message.payload, timeout=TIMEOUT_S, headers=message.headers)
        except (nats.errors.Error, TimeoutError) as exc:
            self._note_error(f"publish failed ({_describe(exc)}); other nodes will read the store")
            return False
        self.published += 1
        return True


async def _run(runtime: Runtime) -> None:
    await NatsBus.of(runtime).run()


BUS = Daemon("nats-bus", _run, lambda runtime: bool(runtime.settings.nats_url))
