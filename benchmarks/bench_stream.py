"""Benchmark: report accepted → change event received by SSE subscribers, on one node.

Run: ``python benchmarks/bench_stream.py [--subscribers 10] [--rate 50] [--seconds 10] [--runs 3]``.

A real server (granian, one worker, as ``ringfence serve`` runs it) on a fresh SQLite file. ``--subscribers`` clients
hold ``GET /v1/changes/stream`` open; one client POSTs ``/v1/reports`` at ``--rate`` per second. For each report, the
latency is from the moment the POST was sent (so the durable write is included) to the moment each subscriber has
parsed the event carrying that number; the figure with the moment the 2xx arrived as the start is printed too.
Reference, in the same run and the same event loop: Redis pub/sub (PUBLISH → each of as many subscribers), the
latency of a bare fan-out with no durable write. Prints p50/p99 per run and their medians over the runs.
Target (issue): p99 ≤ 200 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import orjson
import redis.asyncio as aioredis

from ringfence.config import Settings
from ringfence.registry.models import Role
from ringfence.runtime import Runtime

HOST = "127.0.0.1"
CHANNEL = "ringfence-bench-stream"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(database: Path, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "RINGFENCE_DATABASE_URL": f"sqlite:///{database}"}
    command = ["granian", "--interface", "asgi", "--factory", "--workers", "1", "--loop", "uvloop", "--host", HOST,
               "--port", str(port), "--log-level", "warning", "ringfence.api.asgi:app"]  # fmt: skip
    log = (workdir / f"server-{port}.log").open("wb")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://{HOST}:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"server exited: {(workdir / f'server-{port}.log').read_text()[-2000:]}")
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    sys.exit("server did not start")


def stop(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)


async def sse_subscriber(url: str, key: str, seen: dict[int, float], ready: asyncio.Event) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    async with (
        httpx.AsyncClient(timeout=None) as client,
        client.stream("GET", url + "/v1/changes/stream", headers=headers) as response,
    ):
        ready.set()
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                number = int(orjson.loads(line[6:])["number"][1:])
                seen.setdefault(number, time.perf_counter())


async def ringfence_run(
    url: str, key: str, subscribers: int, rate: float, seconds: float, first: int
) -> dict[str, float]:
    seen: list[dict[int, float]] = [{} for _ in range(subscribers)]
    readies = [asyncio.Event() for _ in range(subscribers)]
    tasks = [asyncio.create_task(sse_subscriber(url, key, s, r)) for s, r in zip(seen, readies, strict=True)]
    await asyncio.gather(*(r.wait() for r in readies))
    await asyncio.sleep(0.5)
    sent: dict[int, float] = {}
    accepted: dict[int, float] = {}
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers) as client:
        count = int(rate * seconds)
        start = time.perf_counter()
        for i in range(count):
            await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
            number = first + i
            sent[number] = time.perf_counter()
            answer = await client.post("/v1/reports", json={"number": f"+{number}", "category": "vishing"})
            accepted[number] = time.perf_counter()
            if answer.status_code != 201:
                sys.exit(f"report refused: {answer.status_code} {answer.text}")
    await asyncio.sleep(1.0)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return summarise(sent, accepted, seen)


def summarise(sent: dict[int, float], accepted: dict[int, float], seen: list[dict[int, float]]) -> dict[str, float]:
    from_sent = [s[n] - sent[n] for s in seen for n in sent if n in s]
    from_accepted = [s[n] - accepted[n] for s in seen for n in accepted if n in s]
    missing = sum(1 for s in seen for n in sent if n not in s)
    if missing:
        sys.exit(f"{missing} events never arrived")
    ms = np.array(from_sent) * 1000
    acc = np.array(from_accepted) * 1000
    return {
        "p50": float(np.percentile(ms, 50)),
        "p99": float(np.percentile(ms, 99)),
        "p50_accepted": float(np.percentile(acc, 50)),
        "p99_accepted": float(np.percentile(acc, 99)),
        "events": float(len(ms)),
    }


async def redis_run(subscribers: int, rate: float, seconds: float) -> dict[str, float]:
    client = aioredis.Redis(host=HOST, port=6379)
    seen: list[dict[int, float]] = [{} for _ in range(subscribers)]

    async def listen(box: dict[int, float], ready: asyncio.Event) -> None:
        sub = aioredis.Redis(host=HOST, port=6379).pubsub()
        await sub.subscribe(CHANNEL)
        ready.set()
        async for message in sub.listen():
            if message["type"] == "message":
                box.setdefault(int(message["data"]), time.perf_counter())

    readies = [asyncio.Event() for _ in range(subscribers)]
    tasks = [asyncio.create_task(listen(s, r)) for s, r in zip(seen, readies, strict=True)]
    await asyncio.gather(*(r.wait() for r in readies))
    await asyncio.sleep(0.2)
    sent: dict[int, float] = {}
    accepted: dict[int, float] = {}
    count = int(rate * seconds)
    start = time.perf_counter()
    for i in range(count):
        await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
        sent[i] = time.perf_counter()
        await client.publish(CHANNEL, str(i))
        accepted[i] = time.perf_counter()
    await asyncio.sleep(0.5)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await client.aclose()
    return summarise(sent, accepted, seen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=10)
    parser.add_argument("--rate", type=float, default=50.0, help="reports per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="ringfence-bench-stream-"))
    database = workdir / "stream.db"
    runtime = Runtime.open(Settings(database_url=f"sqlite:///{database}"))
    key = runtime.members.add("bench-reporter", Role.REPORTER)[1]
    runtime.close()
    process, url = start_server(database, workdir)
    results: list[dict[str, float]] = []
    references: list[dict[str, float]] = []
    try:
        for run in range(args.runs):
            first = 447700900000 + run * 100_000
            got = asyncio.run(ringfence_run(url, key, args.subscribers, args.rate, args.seconds, first))
            ref = asyncio.run(redis_run(args.subscribers, args.rate, args.seconds))
            results.append(got)
            references.append(ref)
            print(
                f"run {run + 1}: ringfence p50 {got['p50']:.1f} ms p99 {got['p99']:.1f} ms "
                f"(from the 2xx: p50 {got['p50_accepted']:.1f} p99 {got['p99_accepted']:.1f}); "
                f"redis pub/sub p50 {ref['p50']:.2f} ms p99 {ref['p99']:.2f} ms; {got['events']:.0f} events",
                flush=True,
            )
    finally:
        stop(process)

    def med(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    p99, ref99 = med(results, "p99"), med(references, "p99")
    print(
        f"\n{args.subscribers} SSE subscribers, {args.rate:.0f} reports/s for {args.seconds:.0f} s, "
        f"medians of {args.runs} runs"
    )
    print(f"{'':34}{'ringfence SSE':>16}{'redis pub/sub':>16}{'ratio':>8}")
    for label, name in (("report sent -> event, p50 (ms)", "p50"), ("report sent -> event, p99 (ms)", "p99")):
        ours, ref = med(results, name), med(references, name)
        print(f"{label:34}{ours:16.1f}{ref:16.2f}{ours / ref:8.0f}x")
    print(f"{'2xx received -> event, p99 (ms)':34}{med(results, 'p99_accepted'):16.1f}")
    print(f"target p99 <= 200 ms: {'met' if p99 <= 200 else 'NOT met'} ({p99:.1f} ms; redis {ref99:.2f} ms)")


if __name__ == "__main__":
    main()
