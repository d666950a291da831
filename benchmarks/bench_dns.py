"""Benchmark of the DNS front door: queries/s with dnsperf, against a bare UDP responder in the same run.

Run: ``python benchmarks/bench_dns.py [--listings N] [--runs R] [--seconds S] [--loop uvloop|asyncio]``.
Needs ``dnsperf`` on PATH (Debian: ``apt-get install dnsperf``). Prints medians of R runs.

* **ringfence**: :class:`ringfence.dns.server.DnsServer` over a runtime on an empty SQLite store whose lookup index
  holds N listings (random UK mobile numbers, loaded with ``put_many``), in a process of its own, on the event loop
  ``ringfence serve`` uses (uvloop).
* **reference**: a bare asyncio UDP responder on the same loop that answers every query with one precomputed
  packet (an A 127.0.0.2 answer; only the 2-byte query id is copied in, which dnsperf needs to match replies),
  with the same socket receive buffer as ringfence's. What ringfence does per query beyond that (parsing, access
  list, lookup, rendering) is the gap between the two.
* **load**: dnsperf over UDP with EDNS (``-e``, as resolvers send), from a file of 200,000 queries: half listed
  numbers (70% A, 30% TXT), half unlisted ones (A), each number once, in random order; dnsperf goes through the file
  in a loop. The runs of ringfence and the reference alternate, so machine noise falls on both.

Every server is killed (by process group) and the temporary directory removed at the end, also on error or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

HOST = "127.0.0.1"
QUERIES = 200_000
FIRST_LISTED = 447_400_000_000  # +44 7400 000000: UK mobile numbers
FIRST_UNLISTED = 447_500_000_000
ZONE = "bl.ringfence.internal"


# ---------------------------------------------------------------------------------------------- the servers
def _install_loop(loop: str) -> None:
    if loop == "uvloop":
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def _listings(n: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(7)
    numbers = FIRST_LISTED + rng.permutation(n).astype(np.int64) * 7  # spread over the range, not consecutive
    now = int(time.time() * 1000)
    last = now - rng.integers(0, 3_600_000, n)  # reported within the hour: fresh, so listed (not decayed)
    first = last - rng.integers(0, 10**9, n)
    reports = rng.integers(1, 50, n)
    reporters = np.minimum(reports, rng.integers(1, 12, n))
    categories = rng.integers(1, 2**9, n)
    return numbers, first, last, reports, reporters, categories, reporters * 1000, np.zeros(n, np.int64)


def serve_ringfence(port: int, listings: int, directory: Path) -> None:
    from ringfence.config import Settings
    from ringfence.dns.server import DnsServer
    from ringfence.runtime import Runtime

    settings = Settings(database_url=f"sqlite:///{directory}/bench.db", dns_zone=ZONE, dns_port=port)
    runtime = Runtime.open(settings, load_index=False)
    started = time.perf_counter()
    runtime.registry.index.put_many(*_listings(listings))
    loaded = time.perf_counter() - started

    async def main() -> None:
        server = DnsServer.from_settings(runtime)
        await server.start()
        print(f"ready: {len(runtime.registry.index):,} listings loaded in {loaded:.2f} s", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await server.close()

    asyncio.run(main())


def serve_reference(port: int) -> None:
    import dns.message
    import dns.rrset

    query = dns.message.make_query(f"8.1.0.0.6.4.9.7.0.2.4.4.{ZONE}.", "A")
    response = dns.message.make_response(query)
    response.answer.append(dns.rrset.from_text(query.question[0].name, 300, "IN", "A", "127.0.0.2"))
    tail = response.to_wire()[2:]

    class Fixed(asyncio.DatagramProtocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport: asyncio.DatagramTransport = transport  # type: ignore[assignment]

        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            self.transport.sendto(data[:2] + tail, addr)

    async def main() -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)  # as ringfence asks for its socket
        sock.bind((HOST, port))
        await asyncio.get_running_loop().create_datagram_endpoint(Fixed, sock=sock)
        print("ready", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


# ---------------------------------------------------------------------------------------------- the load
def _reversed_name(number: int) -> str:
    return ".".join(reversed(str(number))) + "." + ZONE


def write_queries(path: Path, listings: int) -> None:
    rng = np.random.default_rng(11)
    listed_numbers = _listings(listings)[0]
    half = QUERIES // 2
    listed = rng.choice(listed_numbers, half, replace=False)
    unlisted = FIRST_UNLISTED + rng.choice(10**8, half, replace=False)
    lines = [f"{_reversed_name(int(n))} {'TXT' if i % 10 < 3 else 'A'}" for i, n in enumerate(listed)]
    lines += [f"{_reversed_name(int(n))} A" for n in unlisted]
    order = rng.permutation(len(lines))
    path.write_text("\n".join(lines[i] for i in order) + "\n")


def dnsperf(port: int, queries: Path, seconds: int) -> dict[str, float]:
    command = ["dnsperf", "-s", HOST, "-p", str(port), "-d", str(queries), "-l", str(seconds), "-e"]
    command += ["-c", "4", "-q", "256", "-T", "1", "-t", "2"]
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout

    def figure(label: str) -> float:
        match = re.search(rf"{label}:\s+([\d.]+)", output)
        if match is None:
            raise RuntimeError(f"dnsperf printed no {label!r}:\n{output}")
        return float(match.group(1))

    completed = re.search(r"Queries completed:\s+(\d+)", output)
    lost = re.search(r"Queries lost:\s+(\d+)", output)
    if figure("Queries per second") == 0:
        raise RuntimeError(f"no answers at all:\n{output}")
    return {
        "qps": figure("Queries per second"),
        "latency_ms": figure("Average Latency \\(s\\)") * 1000,
        "completed": float(completed.group(1)) if completed else 0.0,
        "lost": float(lost.group(1)) if lost else 0.0,
    }


@contextlib.contextmanager
def server(kind: str, port: int, args: argparse.Namespace, directory: Path) -> Iterator[str]:
    command = [sys.executable, __file__, "--serve", kind, "--port", str(port), "--loop", args.loop]
    command += ["--listings", str(args.listings), "--directory", str(directory)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("ready"):
            raise RuntimeError(f"the {kind} server did not start (exit code {process.wait(5)})")
        yield line.strip()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, socket.socket() as tcp:
        udp.bind((HOST, 0))
        port: int = udp.getsockname()[1]
        tcp.bind((HOST, port))
        return port


def _versions() -> str:
    import dns.version
    import uvloop

    dnsperf_version = subprocess.run(["dnsperf", "-h"], capture_output=True, text=True).stdout
    found = re.search(r"Version ([\d.]+)", dnsperf_version)
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (
        f"python {platform.python_version()}, dnspython {dns.version.version}, uvloop {uvloop.__version__}, "
        f"dnsperf {found.group(1) if found else '?'}; {os.cpu_count()} CPUs ({cpu}), {platform.platform()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listings", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10, help="length of each dnsperf run")
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop")
    parser.add_argument("--serve", choices=["ringfence", "reference"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--directory", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.serve:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        _install_loop(args.loop)
        if args.serve == "ringfence":
            serve_ringfence(args.port, args.listings, args.directory)
        else:
            serve_reference(args.port)
        return

    if shutil.which("dnsperf") is None:
        sys.exit("dnsperf is not installed (Debian: apt-get install dnsperf)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the clean-up on SIGTERM too
    print(_versions())
    print(f"{args.listings:,} listings; {QUERIES:,} queries (half listed); loop {args.loop}; ", end="")
    print(f"dnsperf -e -c 4 -q 256 -l {args.seconds}; medians of {args.runs} runs\n")

    results: dict[str, list[dict[str, float]]] = {"ringfence": [], "reference": []}
    with tempfile.TemporaryDirectory(prefix="ringfence-bench-dns-") as tmp:
        directory = Path(tmp)
        queries = directory / "queries.txt"
        write_queries(queries, args.listings)
        for run in range(1, args.runs + 1):
            for kind in ("ringfence", "reference"):
                port = _free_port()
                with server(kind, port, args, directory) as ready:
                    figures = dnsperf(port, queries, args.seconds)
                results[kind].append(figures)
                line = f"run {run} {kind:9}  {figures['qps']:>9,.0f} queries/s"
                line += f"  avg latency {figures['latency_ms']:.2f} ms  lost {figures['lost']:.0f}  ({ready})"
                print(line, flush=True)

    def median(kind: str, key: str) -> float:
        return statistics.median(r[key] for r in results[kind])

    ringfence_qps, reference_qps = median("ringfence", "qps"), median("reference", "qps")
    print()
    print("| figure | ringfence (median) | reference: bare UDP responder (median) | ringfence / reference |")
    print("|---|---:|---:|---:|")
    print(f"| UDP queries/s | {ringfence_qps:,.0f} | {reference_qps:,.0f} | {ringfence_qps / reference_qps:.2f} |")
    ringfence_ms, reference_ms = median("ringfence", "latency_ms"), median("reference", "latency_ms")
    print(f"| average latency (ms) | {ringfence_ms:.2f} | {reference_ms:.2f} | {ringfence_ms / reference_ms:.2f} |")
    print(f"| queries lost (per run) | {median('ringfence', 'lost'):.0f} | {median('reference', 'lost'):.0f} | - |")
    pairs = zip(results["ringfence"], results["reference"], strict=True)
    paired = statistics.median(ours["qps"] / theirs["qps"] for ours, theirs in pairs)
    print(f"| UDP queries/s, ratio within each run (median) | - | - | {paired:.2f} |")
    cost_us = (1 / ringfence_qps - 1 / reference_qps) * 1e6
    print(f"\nringfence's own cost per query: about {cost_us:.1f} us (1/ringfence - 1/reference)")


if __name__ == "__main__":
    main()
