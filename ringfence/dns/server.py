"""The DNS front door's sockets: UDP and TCP servers in the running event loop, with an access list and limits.

It runs inside the serving process (``ringfence serve`` starts :data:`DAEMON` when ``RINGFENCE_DNS_PORT`` is set),
because the lookup index lives in that process's memory. Every query goes through :meth:`DnsServer.reply`: the
access list, then the fast path (:mod:`ringfence.dns.fast`), then the reference answers (:mod:`ringfence.dns.answers`);
an unexpected error becomes SERVFAIL and a log line, never a dead server.

* **Access list** (``dns_allow``): sources outside it get REFUSED over UDP, and over TCP a connection closed at
  once, before anything is read, so outsiders cannot hold connection slots. IPv4-mapped IPv6 sources
  (``::ffff:192.0.2.1``, a dual-stack socket) are checked as the IPv4 address they are.
* **UDP**: one reply per datagram; datagrams over :data:`MAX_QUERY_BYTES` and unparseable garbage are dropped
  silently. While the socket's send buffer is full, replies are dropped (a client retries) instead of queued.
* **TCP** (RFC 7766): 2-byte length framing, any number of queries per connection answered in order, a connection
  idle (or a query or reply stalled) for :data:`IDLE_TIMEOUT_S` is closed, at most :data:`MAX_CONNECTIONS` at once
  (more are closed on accept), a query over :data:`MAX_QUERY_BYTES` or one that gets no reply closes the connection.
* **Addresses**: ``dns_host`` is one or more addresses or host names, comma-separated; every address they resolve
  to is served, UDP and TCP on the same port. IPv6 sockets are IPv6 only (as asyncio makes them for TCP), so
  ``0.0.0.0,::`` is every address of both families.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import logging
import socket
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

import dns.rcode

from ringfence.config import parse_networks
from ringfence.daemons import Daemon
from ringfence.dns.answers import Answerer, Authority, header_reply
from ringfence.dns.fast import FastAnswers

if TYPE_CHECKING:
    from ringfence.runtime import Runtime

__all__ = ["DAEMON", "IDLE_TIMEOUT_S", "MAX_CONNECTIONS", "MAX_QUERY_BYTES", "AccessList", "DnsServer"]

log = logging.getLogger("ringfence.dns")

#: Largest query accepted, in bytes (a real query is well under 512; this leaves room for EDNS padding).
MAX_QUERY_BYTES = 4096
#: Seconds a TCP connection may stay idle, or take to send one query or read one reply, before it is closed.
IDLE_TIMEOUT_S = 10.0
#: Most TCP connections served at once.
MAX_CONNECTIONS = 128
_RECEIVE_BUFFER = 4 * 1024 * 1024  # asked of the kernel for the UDP socket (it may give less): absorbs bursts
_ACCESS_CACHE = 65_536

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class AccessList:
    """Which source addresses are served: ``allows(address)`` for an address as a socket reports it."""

    def __init__(self, networks: Iterable[IPNetwork]) -> None:
        self.networks = tuple(networks)
        self._cache: dict[str, bool] = {}

    @classmethod
    def from_text(cls, text: str) -> AccessList:
        """From comma-separated CIDRs (raises ValueError with the culprit named)."""
        return cls(parse_networks(text))

    def allows(self, address: str) -> bool:
        known = self._cache.get(address)
        if known is not None:
            return known
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id (fe80::1%eth0)
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        allowed = any(ip in network for network in self.networks)
        if len(self._cache) >= _ACCESS_CACHE:
            self._cache.clear()
        self._cache[address] = allowed
        return allowed


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, server: DnsServer) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None
        self.paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)  # asyncio's own is not a subclass of it

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        if self.paused or len(data) > MAX_QUERY_BYTES:
            return
        reply = self.server.reply(data, str(addr[0]), tcp=False)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)

    def error_received(self, exc: Exception) -> None:  # e.g. ICMP port unreachable from a client that left
        log.debug("dns udp: %s", exc)

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False


class DnsServer:
    """UDP and TCP DNS servers for ``answerer``, on ``host`` and ``port`` (0: a free port, the same for both)."""

    def __init__(
        self,
        answerer: Answerer,
        *,
        host: str,
        port: int,
        access: AccessList,
        idle_timeout: float = IDLE_TIMEOUT_S,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.answerer = answerer
        self.fast = FastAnswers(answerer)
        self.host = host
        self.port = port
        self.access = access
        self.idle_timeout = idle_timeout
        self.max_connections = max_connections
        self.addresses: list[tuple[str, int]] = []
        self._udp: list[asyncio.DatagramTransport] = []
        self._tcp: list[asyncio.Server] = []
        self._connections: set[asyncio.Task[Any]] = set()

    @classmethod
    def from_settings(cls, runtime: Runtime, **overrides: Any) -> DnsServer:
        settings = runtime.settings
        answerer = Answerer(Authority.from_settings(settings), runtime.registry.listed)
        options: dict[str, Any] = {
            "host": settings.dns_host,
            "port": settings.dns_port,
            "access": AccessList.from_text(settings.dns_allow),
        }
        options.update(overrides)
        return cls(answerer, **options)

    # ------------------------------------------------------------------------------------------ answers
    def reply(self, wire: bytes, source: str, *, tcp: bool) -> bytes | None:
        """The reply to one query from ``source``, or None for no reply; never raises."""
        try:
            if not self.access.allows(source):
                return self.answerer.respond(wire, tcp=tcp, allowed=False)
            reply = self.fast.respond(wire)
            return reply if reply is not None else self.answerer.respond(wire, tcp=tcp)
        except Exception:
            log.exception("dns: failed to answer a query from %s", source)
            if len(wire) >= 12 and not wire[2] & 0x80:
                return header_reply(wire, dns.rcode.SERVFAIL)
            return None

    # ------------------------------------------------------------------------------------------ sockets
    async def start(self) -> None:
        """Bind UDP and TCP on every address of ``host`` and start serving; ``port`` 0 picks a free port."""
        loop = asyncio.get_running_loop()
        targets: dict[tuple[int, str], None] = {}
        for host in (part.strip() for part in self.host.split(",")):
            if host:
                infos = await loop.getaddrinfo(host, None, type=socket.SOCK_DGRAM, flags=socket.AI_PASSIVE)
                targets.update(dict.fromkeys((int(family), str(sockaddr[0])) for family, _, _, _, sockaddr in infos))
        if not targets:
            raise OSError(f"{self.host!r} resolves to no address")
        for attempt in range(20):
            try:
                await self._bind(list(targets))
                break
            except OSError as exc:
                self._close_sockets()
                if self.port == 0 and exc.errno == errno.EADDRINUSE and attempt < 19:
                    continue  # the free UDP port was taken for TCP: pick another
                raise
        log.info("dns: listening on udp+tcp %s", ", ".join(f"[{h}]:{p}" for h, p in self.addresses))

    async def _bind(self, targets: list[tuple[int, str]]) -> None:
        loop = asyncio.get_running_loop()
        port = self.port
        self.addresses = []
        for family, address in targets:
            udp = _socket(family, socket.SOCK_DGRAM)
            try:
                with contextlib.suppress(OSError):
                    udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RECEIVE_BUFFER)
                udp.bind((address, port))
                port = udp.getsockname()[1]
                tcp = _socket(family, socket.SOCK_STREAM)
            except BaseException:
                udp.close()
                raise
            try:
                tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                tcp.bind((address, port))
            except BaseException:
                udp.close()
                tcp.close()
                raise
            transport, _ = await loop.create_datagram_endpoint(lambda: _Udp(self), sock=udp)
            self._udp.append(transport)
            self._tcp.append(await asyncio.start_server(self._serve_tcp, sock=tcp, backlog=self.max_connections))
            self.addresses.append((address, port))
        self.port = port

    def _close_sockets(self) -> None:
        for transport in self._udp:
            transport.close()
        for server in self._tcp:
            server.close()
        self._udp, self._tcp = [], []

    async def close(self) -> None:
        """Stop listening, close every open TCP connection, and wait for them."""
        self._close_sockets()
        tasks = list(self._connections)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def serve_forever(self) -> None:
        """Start, then serve until cancelled; the sockets are closed on the way out."""
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.close()

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        source = str(peer[0]) if isinstance(peer, tuple) and peer else ""
        if not self.access.allows(source) or len(self._connections) >= self.max_connections:
            writer.transport.abort()
            return
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await self._tcp_queries(reader, writer, source)
        except (OSError, asyncio.IncompleteReadError, TimeoutError):
            pass  # the client went away, sent half a message, or stalled: nothing to answer
        finally:
            self._connections.discard(task)
            writer.transport.abort()

    async def _tcp_queries(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, source: str) -> None:
        timeout = self.idle_timeout
        while True:
            try:
                async with asyncio.timeout(timeout):
                    prefix = await reader.readexactly(2)
            except asyncio.IncompleteReadError as exc:
                if not exc.partial:
                    return  # a clean end between messages
                raise
            length = int.from_bytes(prefix, "big")
            if not 12 <= length <= MAX_QUERY_BYTES:
                return
            async with asyncio.timeout(timeout):
                query = await reader.readexactly(length)
            reply = self.reply(query, source, tcp=True)
            if reply is None:
                return
            writer.write(len(reply).to_bytes(2, "big") + reply)
            async with asyncio.timeout(timeout):
                await writer.drain()


def _socket(family: int, kind: int) -> socket.socket:
    sock = socket.socket(family, kind)
    try:
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


async def run(runtime: Runtime) -> None:
    """The daemon: serve the settings' DNS front door until cancelled."""
    server = DnsServer.from_settings(runtime)
    zones = server.answerer.authority.zones
    log.info("dns: zone %s%s", zones.zone, f", ENUM suffix {zones.enum}" if zones.enum is not None else "")
    await server.serve_forever()


DAEMON = Daemon("dns", run, lambda runtime: runtime.settings.dns_port != 0)
