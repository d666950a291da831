"""The DNS front door as a resolver meets it: the real server in this test's event loop, asked with the real `dig`
(and raw sockets for what dig will not send): listed and unlisted numbers, the ENUM form, TCP, the access list,
garbage, TCP limits, and the daemon that `ringfence serve` starts.

`dig` comes from Debian's dnsutils (.ci/run installs it). Without it these tests skip, except under CI=true, where
they fail.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import dns.message
import dns.rcode
import pytest

from ringfence.clock import FixedClock
from ringfence.config import Settings
from ringfence.daemons import start_daemons
from ringfence.dns.answers import Answerer, Authority
from ringfence.dns.names import Zones
from ringfence.dns.server import DAEMON, AccessList, DnsServer
from ringfence.errors import InvalidInput
from ringfence.registry.models import Category, NewReport, Role
from ringfence.runtime import Runtime

START_MS = 1_790_000_000_000  # 2026-09-21T14:13:20Z
LONDON = 442079460018
NAME = "8.1.0.0.6.4.9.7.0.2.4.4.bl.ringfence.internal"
UNLISTED_NAME = "9.1.0.0.6.4.9.7.0.2.4.4.bl.ringfence.internal"
EXPECTED_TXT = (
    '"last=2026-09-21T14:13:20.000Z first=2026-09-21T13:13:20.000Z reports=2 reporters=2 categories=robocall,vishing"'
)


@pytest.fixture(scope="session")
def dig_path() -> str:
    path = shutil.which("dig")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("dig is not installed (Debian: apt-get install dnsutils), and CI requires the DNS tests")
        pytest.skip("dig is not installed (Debian: apt-get install dnsutils)")
    return path


@dataclass
class Dig:
    """What dig printed, picked apart: the status, header flags, and the records of the answer and authority."""

    returncode: int
    text: str
    status: str | None = None
    flags: set[str] = field(default_factory=set)
    answer: list[list[str]] = field(default_factory=list)
    authority: list[list[str]] = field(default_factory=list)

    @classmethod
    def parse(cls, returncode: int, text: str) -> Dig:
        result = cls(returncode, text)
        if status := re.search(r"status: (\w+)", text):
            result.status = status.group(1)
        if flags := re.search(r";; flags: ([a-z ]*);", text):
            result.flags = set(flags.group(1).split())
        section: list[list[str]] | None = None
        for line in text.splitlines():
            if line.startswith(";; ANSWER SECTION"):
                section = result.answer
            elif line.startswith(";; AUTHORITY SECTION"):
                section = result.authority
            elif not line.strip() or line.startswith(";"):
                section = None
            elif section is not None:
                section.append(line.split(None, 4))
        return result

    def rdata(self, rdtype: str) -> list[str]:
        return [record[4] for record in self.answer if record[3] == rdtype]


DigRun = Callable[..., Awaitable[Dig]]


@pytest.fixture
def dig(dig_path: str) -> DigRun:
    async def run(port: int, *args: str, server: str = "127.0.0.1") -> Dig:
        proc = await asyncio.create_subprocess_exec(
            dig_path,
            f"@{server}",
            "-p",
            str(port),
            "+tries=1",
            "+time=2",
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode is not None
        return Dig.parse(proc.returncode, out.decode())

    return run


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    """A store with +44 20 7946 0018 reported by two members (vishing an hour ago, robocall now)."""
    rt = Runtime.open(Settings(database_url=f"sqlite:///{tmp_path}/ringfence.db"), clock=FixedClock(START_MS))
    carrier = rt.members.add("carrier-a", Role.REPORTER)[0]
    bank = rt.members.add("bank-b", Role.REPORTER)[0]
    rt.registry.report(carrier, NewReport(LONDON, Category.VISHING, START_MS - 3_600_000))
    rt.registry.report(bank, NewReport(LONDON, Category.ROBOCALL, START_MS))
    try:
        yield rt
    finally:
        rt.close()


@pytest.fixture
async def server(runtime: Runtime) -> AsyncIterator[DnsServer]:
    dns_server = DnsServer.from_settings(runtime, port=0)  # the default access list: loopback
    await dns_server.start()
    try:
        yield dns_server
    finally:
        await dns_server.close()


async def _started(runtime: Runtime, **options: object) -> DnsServer:
    dns_server = DnsServer.from_settings(runtime, port=0, **options)
    await dns_server.start()
    return dns_server


# ------------------------------------------------------------------------------------------ dig, UDP and TCP
async def test_a_listed_number_answers_a_and_txt_to_dig(server: DnsServer, dig: DigRun) -> None:
    a = await dig(server.port, NAME, "A")
    assert a.status == "NOERROR"
    assert "aa" in a.flags
    assert a.rdata("A") == ["127.0.0.2"]
    txt = await dig(server.port, NAME, "TXT")
    assert txt.rdata("TXT") == [EXPECTED_TXT]
    assert "carrier-a" not in txt.text and "bank-b" not in txt.text


async def test_an_unlisted_number_is_nxdomain_with_the_soa(server: DnsServer, dig: DigRun) -> None:
    result = await dig(server.port, UNLISTED_NAME, "A")
    assert result.status == "NXDOMAIN"
    assert result.answer == []
    [soa] = result.authority
    assert soa[:4] == ["bl.ringfence.internal.", "60", "IN", "SOA"]


async def test_the_enum_form_answers_too(server: DnsServer, dig: DigRun) -> None:
    result = await dig(server.port, "8.1.0.0.6.4.9.7.0.2.4.4.e164.arpa", "A")
    assert result.rdata("A") == ["127.0.0.2"]


async def test_tcp_answers_like_udp(server: DnsServer, dig: DigRun) -> None:
    result = await dig(server.port, "+tcp", NAME, "TXT")
    assert "(TCP)" in result.text
    assert result.rdata("TXT") == [EXPECTED_TXT]
    several = await dig(server.port, "+tcp", "+keepopen", NAME, "A", UNLISTED_NAME, "A", NAME, "TXT")
    assert several.text.count("status: NOERROR") == 2
    assert several.text.count("status: NXDOMAIN") == 1


async def test_names_outside_the_zone_are_refused(server: DnsServer, dig: DigRun) -> None:
    result = await dig(server.port, "example.com", "A")
    assert result.status == "REFUSED"


# ------------------------------------------------------------------------------------------ access list
async def test_a_source_outside_the_access_list_is_refused(runtime: Runtime, dig: DigRun) -> None:
    dns_server = await _started(runtime, access=AccessList.from_text("10.0.0.0/8,2001:db8::/32"))
    try:
        udp = await dig(dns_server.port, NAME, "A")
        assert udp.status == "REFUSED"
        assert udp.answer == []
        tcp = await dig(dns_server.port, "+tcp", NAME, "A")
        assert tcp.status is None  # the connection is closed without an answer
        assert tcp.returncode != 0
    finally:
        await dns_server.close()


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _ipv6_loopback(), reason="this machine has no IPv6 loopback")
async def test_ipv6_sources_are_checked_against_the_access_list(runtime: Runtime, dig: DigRun) -> None:
    for allow, status in (("::1/128", "NOERROR"), ("127.0.0.0/8", "REFUSED")):
        dns_server = await _started(runtime, host="::1", access=AccessList.from_text(allow))
        try:
            result = await dig(dns_server.port, NAME, "A", server="::1")
            assert result.status == status, allow
        finally:
            await dns_server.close()


@pytest.mark.skipif(not _ipv6_loopback(), reason="this machine has no IPv6 loopback")
async def test_several_addresses_are_served_on_one_port(runtime: Runtime, dig: DigRun) -> None:
    dns_server = await _started(runtime, host="127.0.0.1, ::1")
    try:
        assert dns_server.addresses == [("127.0.0.1", dns_server.port), ("::1", dns_server.port)]
        for address in ("127.0.0.1", "::1"):
            for transport in ("+notcp", "+tcp"):
                result = await dig(dns_server.port, transport, NAME, "A", server=address)
                assert result.rdata("A") == ["127.0.0.2"], (address, transport)
    finally:
        await dns_server.close()


def test_ipv4_mapped_sources_are_checked_as_ipv4() -> None:
    access = AccessList.from_text("192.0.2.0/24")
    assert access.allows("::ffff:192.0.2.7")
    assert access.allows("192.0.2.7")
    assert not access.allows("::ffff:198.51.100.1")
    assert not access.allows("not an address")


def test_the_access_list_setting_names_a_bad_network() -> None:
    with pytest.raises(InvalidInput, match=re.escape("did you mean 10.0.0.0/8?")):
        Settings.from_env({"RINGFENCE_DNS_ALLOW": "127.0.0.0/8, 10.0.0.1/8"})
    with pytest.raises(InvalidInput, match=re.escape("'10.0.0.0/33' is not an IPv4 or IPv6 network")):
        Settings.from_env({"RINGFENCE_DNS_ALLOW": "10.0.0.0/33"})
    with pytest.raises(InvalidInput, match="at least one network"):
        Settings.from_env({"RINGFENCE_DNS_ALLOW": " , "})
    settings = Settings.from_env({"RINGFENCE_DNS_ALLOW": " 10.0.0.0/8 ,2001:db8::/32,192.0.2.1"})
    assert settings.dns_allow == "10.0.0.0/8,2001:db8::/32,192.0.2.1/32"
    with pytest.raises(InvalidInput, match="not a DNS label"):
        Settings.from_env({"RINGFENCE_DNS_ZONE": "bl..example"})


# ------------------------------------------------------------------------------------------ hostile input
async def _udp_exchange(port: int, payload: bytes, timeout: float = 0.5) -> bytes | None:
    loop = asyncio.get_running_loop()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        sock.connect(("127.0.0.1", port))
        await loop.sock_sendall(sock, payload)
        try:
            return await asyncio.wait_for(loop.sock_recv(sock, 65535), timeout)
        except TimeoutError:
            return None


async def test_garbage_over_udp_does_not_kill_the_server(server: DnsServer, dig: DigRun) -> None:
    query = dns.message.make_query(NAME + ".", "A").to_wire()
    silent = [b"", b"\x00", b"\xff" * 11, bytes([0x12, 0x34, 0x80]) + bytes(9), b"\x00" * (4096 + 1)]
    for garbage in silent:
        assert await _udp_exchange(server.port, garbage) is None, garbage[:16]
    formerr = [query + b"junk", query[:20], b"\xab\xcd" + bytes(2) + b"\x00\x05" + bytes(6) + b"\xff" * 40]
    for garbage in formerr:
        reply = await _udp_exchange(server.port, garbage, timeout=2)
        assert reply is not None
        assert reply[:2] == garbage[:2]
        assert reply[3] & 0xF == dns.rcode.FORMERR
    for _ in range(200):
        await _udp_exchange(server.port, os.urandom(int.from_bytes(os.urandom(1), "big")), timeout=0)
    result = await dig(server.port, NAME, "A")
    assert result.rdata("A") == ["127.0.0.2"]


async def _read_reply(reader: asyncio.StreamReader) -> dns.message.Message:
    length = struct.unpack(">H", await asyncio.wait_for(reader.readexactly(2), 5))[0]
    return dns.message.from_wire(await asyncio.wait_for(reader.readexactly(length), 5))


def _framed(name: str, rdtype: str, query_id: int) -> bytes:
    query = dns.message.make_query(name, rdtype)
    query.id = query_id
    wire = query.to_wire()
    return struct.pack(">H", len(wire)) + wire


async def test_tcp_answers_pipelined_queries_in_order(server: DnsServer) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(_framed(NAME + ".", "A", 1) + _framed(UNLISTED_NAME + ".", "A", 2) + _framed(NAME + ".", "TXT", 3))
        replies = [await _read_reply(reader) for _ in range(3)]
        assert [r.id for r in replies] == [1, 2, 3]
        assert [r.rcode() for r in replies] == [dns.rcode.NOERROR, dns.rcode.NXDOMAIN, dns.rcode.NOERROR]
    finally:
        writer.close()


async def _closed_by_server(reader: asyncio.StreamReader, within: float) -> bool:
    try:
        return await asyncio.wait_for(reader.read(1), within) == b""
    except ConnectionResetError:
        return True


async def test_tcp_closes_oversized_idle_and_unanswerable_connections(runtime: Runtime) -> None:
    dns_server = await _started(runtime, idle_timeout=0.3)
    try:
        for sent in (b"\xff\xff" + b"x" * 100, b"\x00\x03abc", b"\x00\x20\x12\x34\x80" + bytes(29)):
            reader, writer = await asyncio.open_connection("127.0.0.1", dns_server.port)
            writer.write(sent)  # too long / shorter than a header / a response (QR set): nothing to answer
            assert await _closed_by_server(reader, 2), sent
            writer.close()
        reader, writer = await asyncio.open_connection("127.0.0.1", dns_server.port)
        writer.write(b"\x00\x40" + bytes(10))  # half a query, then nothing
        assert await _closed_by_server(reader, 2)
        writer.close()
        reader, writer = await asyncio.open_connection("127.0.0.1", dns_server.port)
        writer.write(struct.pack(">H", 30) + b"\x77\x77" + bytes(2) + b"\x00\x07" + bytes(24))  # garbage, framed
        reply = await _read_reply(reader)
        assert (reply.id, reply.rcode()) == (0x7777, dns.rcode.FORMERR)
        writer.close()
    finally:
        await dns_server.close()


async def test_tcp_connections_beyond_the_limit_are_closed(runtime: Runtime) -> None:
    dns_server = await _started(runtime, max_connections=2)
    connections = []
    try:
        for query_id in (1, 2):
            reader, writer = await asyncio.open_connection("127.0.0.1", dns_server.port)
            writer.write(_framed(NAME + ".", "A", query_id))
            assert (await _read_reply(reader)).id == query_id
            connections.append((reader, writer))
        reader, writer = await asyncio.open_connection("127.0.0.1", dns_server.port)
        assert await _closed_by_server(reader, 2)
        writer.close()
        connections.pop()[1].close()
        await asyncio.sleep(0.2)
        reader, writer = await asyncio.open_connection("127.0.0.1", dns_server.port)
        writer.write(_framed(NAME + ".", "A", 9))
        assert (await _read_reply(reader)).id == 9
        writer.close()
    finally:
        for _, writer in connections:
            writer.close()
        await dns_server.close()


def test_an_unexpected_error_becomes_servfail_and_the_next_query_is_answered(caplog: pytest.LogCaptureFixture) -> None:
    calls = []

    def flaky(number: int) -> None:
        calls.append(number)
        if len(calls) == 1:
            raise RuntimeError("the index broke")

    authority = Authority(Zones.from_text("bl.ringfence.internal", ""))
    dns_server = DnsServer(Answerer(authority, flaky), host="127.0.0.1", port=0, access=AccessList.from_text("::/0"))
    query = dns.message.make_query(NAME + ".", "A")
    first = dns.message.from_wire(dns_server.reply(query.to_wire(), "::1", tcp=False) or b"")
    assert (first.id, first.rcode()) == (query.id, dns.rcode.SERVFAIL)
    assert "the index broke" in caplog.text
    second = dns.message.from_wire(dns_server.reply(query.to_wire(), "::1", tcp=False) or b"")
    assert second.rcode() == dns.rcode.NXDOMAIN


# ------------------------------------------------------------------------------------------ the daemon
def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, socket.socket() as tcp:
        udp.bind(("127.0.0.1", 0))
        port: int = udp.getsockname()[1]
        tcp.bind(("127.0.0.1", port))
        return port


async def test_the_daemon_serves_while_running_and_frees_its_port_when_stopped(runtime: Runtime, dig: DigRun) -> None:
    assert not DAEMON.enabled(runtime)  # dns_port 0: off
    port = _free_port()
    runtime.settings = replace(runtime.settings, dns_port=port)
    assert DAEMON.enabled(runtime)
    running = start_daemons(runtime, [DAEMON])
    try:
        for _ in range(50):
            result = await dig(port, NAME, "A")
            if result.status is not None:
                break
        assert result.rdata("A") == ["127.0.0.2"]
        reporter = runtime.members.add("carrier-c", Role.REPORTER)[0]
        runtime.registry.report(reporter, NewReport(442079460019, Category.IRSF, START_MS))
        assert (await dig(port, UNLISTED_NAME, "TXT")).rdata("TXT")
    finally:
        await running.stop()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, socket.socket() as tcp:
        udp.bind(("127.0.0.1", port))  # both sockets were closed
        tcp.bind(("127.0.0.1", port))
