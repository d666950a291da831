"""How soon a change made on one node is visible on another: two ``ringfence serve`` nodes on one PostgreSQL.

Run: ``python benchmarks/bench_scale_out.py [--reports 300] [--reference-reports 60]``.

For each report: ``POST /v1/reports`` on node A (one keep-alive connection), then ``GET /v1/numbers/{n}`` on node B
in a tight loop (another keep-alive connection) until B answers ``listed``. Two latencies are kept per report:

* **ack → visible**: from A's 201 answer (the report is committed) to B's first ``listed`` answer;
* **request → visible**: from sending the report to A to B's first ``listed`` answer.

Reported as p50 / p99 (and max) for:

1. the nodes with the NATS JetStream bus (store poll set to a minute, so the bus does it);
2. reference: the same nodes without NATS, changes of other nodes reaching B only through the store poll
   (``RINGFENCE_FEED_POLL_MS``, default 1000 ms); a random pause of up to one poll interval before each report keeps
   the reports out of step with the poll (without it every report would land just after a poll and wait a whole
   interval).

Needs PostgreSQL at 127.0.0.1:5432 (user postgres, database test; ``RINGFENCE_BENCH_PG`` overrides) and NATS with
JetStream at 127.0.0.1:4222 (``RINGFENCE_BENCH_NATS``). A schema and a JetStream stream of the run's own are made and
removed at the end, also on error; servers are stopped by process group. Loopback traffic only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import sqlalchemy as sa

from ringfence.config import Settings
from ringfence.registry.models import Role
from ringfence.runtime import Runtime

PG = os.environ.get("RINGFENCE_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NATS = os.environ.get("RINGFENCE_BENCH_NATS", "nats://127.0.0.1:4222")
FIRST_NUMBER = 447_400_500_000
READY_TIMEOUT_S = 120.0
VISIBLE_TIMEOUT_S = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def schema() -> Iterator[str]:
    name = f"rf_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    try:
        yield f"{PG}?options=-csearch_path%3D{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


async def _delete_stream(stream: str) -> None:
    import nats
    import nats.errors

    client = await nats.connect(NATS, connect_timeout=2, allow_reconnect=False)
    try:
        with contextlib.suppress(nats.errors.Error):
            await client.jetstream().delete_stream(stream)
    finally:
        await client.close()


@contextmanager
def node(env: dict[str, str], log: Path, *, bus: bool) -> Iterator[str]:
    """A ``ringfence serve`` process; yields its base URL once it is ready (and its bus connected)."""
    port = free_port()
    full = {k: v for k, v in os.environ.items() if not k.startswith("RINGFENCE_")} | env
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "ringfence.cli", "serve", "--port", str(port)],
            env=full,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            with contextlib.suppress(httpx.TransportError):
                answer = httpx.get(f"{url}/ready", timeout=1)
                if answer.status_code == 200 and (not bus or answer.json()["bus"].get("consuming")):
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"node on port {port} did not become ready: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def keys(database_url: str) -> tuple[str, str]:
    runtime = Runtime.open(Settings(database_url=database_url), load_index=False)
    try:
        reporter = runtime.members.add("bench-carrier", Role.REPORTER)[1]
        reader = runtime.members.add("bench-reader", Role.READER)[1]
        return reporter, reader
    finally:
        runtime.close()


def measure(
    a: str, b: str, reporter: str, reader: str, first: int, count: int, pause_s: float = 0.0
) -> tuple[list[float], list[float]]:
    """Per report: (ack → visible on B, request → visible on B), in milliseconds; a random pause of up to
    ``pause_s`` before each report keeps the reports out of step with a periodic poll."""
    acked: list[float] = []
    requested: list[float] = []
    with (
        httpx.Client(headers={"Authorization": f"Bearer {reporter}"}, timeout=10) as writer,
        httpx.Client(headers={"Authorization": f"Bearer {reader}"}, timeout=10) as looker,
    ):
        for i in range(-5, count):  # five warm-up reports (key cache, connections) are not counted
            number = f"+{first + 5 + i}"
            if pause_s:
                time.sleep(random.uniform(0, pause_s))
            sent = time.perf_counter()
            answer = writer.post(f"{a}/v1/reports", json={"number": number, "category": "wangiri"})
            ack = time.perf_counter()
            if answer.status_code != 201:
                raise RuntimeError(f"report refused: {answer.status_code} {answer.text}")
            while not looker.get(f"{b}/v1/numbers/{number}").json()["listed"]:
                if time.perf_counter() - ack > VISIBLE_TIMEOUT_S:
                    raise RuntimeError(f"{number} not visible on B within {VISIBLE_TIMEOUT_S} s")
            seen = time.perf_counter()
            if i >= 0:
                acked.append((seen - ack) * 1000)
                requested.append((seen - sent) * 1000)
    return acked, requested


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def line(label: str, values: list[float]) -> str:
    return (
        f"| {label} | {len(values)} | {statistics.median(values):.2f} | {pct(values, 0.99):.2f} | {max(values):.2f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=300, help="reports measured through the bus")
    parser.add_argument("--reference-reports", type=int, default=60, help="reports measured with the poll only")
    parser.add_argument("--poll-ms", type=int, default=1000, help="store poll of the reference (default 1000)")
    args = parser.parse_args()

    stream = f"RF_BENCH_{uuid.uuid4().hex[:10]}"
    rows: list[str] = []
    with schema() as database_url, tempfile.TemporaryDirectory(prefix="rf-bench-") as tmp:
        reporter, reader = keys(database_url)
        logs = Path(tmp)
        bus_env = {
            "RINGFENCE_DATABASE_URL": database_url,
            "RINGFENCE_NATS_URL": NATS,
            "RINGFENCE_NATS_STREAM": stream,
            "RINGFENCE_NATS_SUBJECT": f"ringfence.bench.{stream.lower()}",
            "RINGFENCE_FEED_POLL_MS": "60000",
        }
        try:
            with node(bus_env, logs / "a.log", bus=True) as a, node(bus_env, logs / "b.log", bus=True) as b:
                acked, requested = measure(a, b, reporter, reader, FIRST_NUMBER, args.reports)
            rows.append(line("NATS bus: A's 201 → listed on B", acked))
            rows.append(line("NATS bus: report sent to A → listed on B", requested))
        finally:
            asyncio.run(_delete_stream(stream))
        poll_env = {"RINGFENCE_DATABASE_URL": database_url, "RINGFENCE_FEED_POLL_MS": str(args.poll_ms)}
        with node(poll_env, logs / "c.log", bus=False) as a, node(poll_env, logs / "d.log", bus=False) as b:
            acked, requested = measure(
                a, b, reporter, reader, FIRST_NUMBER + 100_000, args.reference_reports, args.poll_ms / 1000
            )
        rows.append(line(f"reference, store poll every {args.poll_ms} ms: A's 201 → listed on B", acked))
        rows.append(line(f"reference, store poll every {args.poll_ms} ms: report sent to A → listed on B", requested))

    print(
        f"Machine: {os.cpu_count()} CPUs, {platform.system()} {platform.release()}; Python {platform.python_version()}"
    )
    print(f"Command: python benchmarks/bench_scale_out.py --reports {args.reports} "
          f"--reference-reports {args.reference_reports} --poll-ms {args.poll_ms}")  # fmt: skip
    print()
    print("| latency, report on node A → visible on node B | reports | p50 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|")
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
