"""End-to-end benchmark of the registry: bulk import, server memory, HTTP lookups and in-process lookups.

Run: ``python benchmarks/bench_registry.py [--listings 1000000] [--seconds 10] [--runs 3]``.

Every figure is measured ``--runs`` times, interleaved with its reference (measured in the same run on the same
machine), and the medians are printed with the ratio against the reference and against the target:

1. bulk import (``import_reports`` of a CSV into a fresh SQLite file), reference: naive ``executemany`` INSERT;
2. RSS of the granian server process tree, empty vs with the listings, reference: Redis ``MEMORY USAGE`` of the set;
3. HTTP single lookups (wrk against granian), reference: ``redis-benchmark`` GET (and SISMEMBER);
4. the same against uvicorn, and a bare ASGI hello app on granian as the server's ceiling;
5. HTTP batch lookups of 10,000 numbers (wrk), reference: pipelined SMISMEMBER of the same numbers (redis-py);
6. in-process ``lookup_many`` / ``lookup``, reference: a Python ``set`` membership loop.

Needs ``wrk`` and ``redis-benchmark`` on PATH and Redis at 127.0.0.1:6379 (the set ``ringfence:bench:listed`` is
created and deleted). Only loopback traffic; every load loop is bounded in time; servers and temporary files are
removed at the end, also on error.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import orjson
import redis

from ringfence.config import Settings
from ringfence.registry.files import import_reports
from ringfence.registry.models import Category, Role
from ringfence.runtime import Runtime

HERE = Path(__file__).resolve().parent
HOST = "127.0.0.1"
REDIS_KEY = "ringfence:bench:listed"
FIRST_NUMBER = 447_400_000_000  # UK mobiles, +44 7400 000000 onwards
BATCH = 10_000
LOOKUP_LIST = 100_000  # numbers the single-lookup load picks from: half listed, half not
WARMUP_REQUESTS = 300
REDIS_BENCH_REQUESTS = 200_000
READY_TIMEOUT_S = 180.0

# --------------------------------------------------------------------------------------------------------------------
# results


@dataclass
class Figure:
    """One line of the result table: ringfence's value and its reference, one sample per run."""

    name: str
    unit: str
    reference_name: str = ""
    target: float | None = None
    higher_is_better: bool = True
    target_on_ratio: bool = False  # the target applies to value / reference (e.g. >= 0.4 x Redis GET)
    values: list[float] = field(default_factory=list)
    references: list[float] = field(default_factory=list)

    @property
    def value(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")

    @property
    def reference(self) -> float:
        return statistics.median(self.references) if self.references else float("nan")

    @property
    def ratio(self) -> float | None:
        """ringfence / reference, from the medians."""
        return self.value / self.reference if self.references and self.reference else None

    def target_text(self) -> str:
        if self.target is None:
            return "-"
        sign = ">=" if self.higher_is_better else "<="
        if self.target_on_ratio:
            return f"{sign} {self.target:g} x ref"
        return f"{sign} {fmt(self.target)} {self.unit}"

    def against_target(self) -> float | None:
        """How far the figure is from its target: >= 1 means met (for both directions)."""
        if self.target is None:
            return None
        measured = self.ratio if self.target_on_ratio else self.value
        if measured is None or not measured:
            return None
        return measured / self.target if self.higher_is_better else self.target / measured

    def met(self) -> str:
        score = self.against_target()
        if score is None:
            return "-" if self.target is None else "?"
        return "yes" if score >= 1 else "NO"


def fmt(value: float | None) -> str:
    if value is None or value != value:  # None or NaN
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(figures: Sequence[Figure], runs: int) -> str:
    head = (
        f"| figure | ringfence (median of {runs}) | reference | reference (median) | ringfence / reference "
        "| target | ringfence / target | met? |"
    )
    lines = [head, "|---|---:|---|---:|---:|---|---:|---|"]
    for f in figures:
        ratio = f.ratio
        score = f.against_target()
        lines.append(
            f"| {f.name} | {fmt(f.value)} {f.unit} | {f.reference_name or '-'} | "
            f"{fmt(f.reference) if f.references else '-'} | {'-' if ratio is None else f'{ratio:.2f}'} | "
            f"{f.target_text()} | {'-' if score is None else f'{score:.2f}'} | {f.met()} |"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------------------------
# machine


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_line(client: redis.Redis) -> str:
    import granian
    import uvicorn

    redis_version = client.info("server").get("redis_version", "?")
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False).stdout.split("[")[0].strip()
    return (
        f"{os.cpu_count()} CPUs ({cpu_model()}), {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; granian {granian.__version__}; uvicorn {uvicorn.__version__}; "
        f"Redis server {redis_version}; numpy {np.__version__}; SQLite {sqlite3.sqlite_version}; {wrk}"
    )


# --------------------------------------------------------------------------------------------------------------------
# data


@dataclass
class Data:
    listed: np.ndarray  # int64, the distinct numbers the CSV lists
    unlisted: np.ndarray  # int64, numbers of the same range that no report names
    csv_path: Path
    csv_rows: int
    lookup_list: np.ndarray  # what load generators pick from: half listed, half unlisted, shuffled
    batch: np.ndarray  # the 10,000 numbers of the batch requests


def make_data(workdir: Path, listings: int, seed: int = 20_261_121) -> Data:
    """A CSV of ``listings`` distinct numbers plus 5% extra rows that repeat one of them (mixed categories)."""
    rng = np.random.default_rng(seed)
    span = max(2_000_000, 2 * listings)
    offsets = rng.permutation(span)
    listed = (FIRST_NUMBER + offsets[:listings]).astype(np.int64)
    unlisted = (FIRST_NUMBER + offsets[listings:]).astype(np.int64)
    repeats = rng.choice(listed, listings // 20)
    numbers = rng.permutation(np.concatenate([listed, repeats]))
    rows = len(numbers)
    categories = [c.value for c in Category]
    # weighted towards the common ones: robocall, vishing, smishing, irsf, wangiri
    weights = np.array([30, 20, 15, 5, 3, 10, 10, 5, 2], dtype=np.float64)[: len(categories)]
    cat_idx = rng.choice(len(categories), rows, p=weights / weights.sum())
    # reported within the last 12 hours: fresh, so every listed number answers listed, with its whole listing and
    # score (older reports would have decayed and answer "not listed", which is cheaper and would flatter the figures)
    now_s = int(time.time()) - 60
    occurred = (np.datetime64(now_s, "s") - rng.integers(0, 12 * 3600, rows).astype("timedelta64[s]")).astype(str)
    noted = rng.random(rows) < 0.1
    path = workdir / "reports.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("number,category,occurred_at,note,report_id\n")
        for start in range(0, rows, 100_000):
            end = min(rows, start + 100_000)
            out.write(
                "".join(
                    f"+{n},{categories[c]},{t}Z,{'called twice then hung up' if k else ''},\n"
                    for n, c, t, k in zip(
                        numbers[start:end].tolist(),
                        cat_idx[start:end].tolist(),
                        occurred[start:end].tolist(),
                        noted[start:end].tolist(),
                        strict=True,
                    )
                )
            )
    half = LOOKUP_LIST // 2
    lookup_list = rng.permutation(
        np.concatenate([rng.choice(listed, min(half, len(listed)), replace=False), unlisted[:half]])
    )
    batch = rng.choice(lookup_list, BATCH, replace=False).astype(np.int64)
    return Data(listed, unlisted, path, rows, lookup_list.astype(np.int64), batch)


def new_database(path: Path) -> Runtime:
    path.unlink(missing_ok=True)
    return Runtime.open(Settings(database_url=f"sqlite:///{path}"))


def add_reader(path: Path) -> str:
    """A READER member on the database at ``path`` (opened without loading the index); returns its key."""
    runtime = Runtime.open(Settings(database_url=f"sqlite:///{path}"), load_index=False)
    try:
        _, key = runtime.members.add(f"bench-reader-{time.time_ns()}", Role.READER)
        return key
    finally:
        runtime.close()


# --------------------------------------------------------------------------------------------------------------------
# 1. bulk import


def time_import(data: Data, db_path: Path) -> tuple[float, int]:
    """Seconds to import the CSV into a fresh database, and the rows accepted."""
    runtime = new_database(db_path)
    try:
        member, _ = runtime.members.add("bench-importer", Role.REPORTER)
        with data.csv_path.open("rb") as stream:
            started = time.perf_counter()
            outcome = import_reports(runtime.registry, member, stream, fmt="csv")
            elapsed = time.perf_counter() - started
        if outcome.errors:
            first = outcome.errors[0]
            raise RuntimeError(f"{len(outcome.errors)} rows refused, first: line {first.line}: {first.error}")
        return elapsed, outcome.accepted
    finally:
        runtime.close()


def time_naive_insert(data: Data, db_path: Path) -> float:
    """Seconds for csv.reader + one executemany INSERT into a bare table (WAL, synchronous=FULL, as ringfence)."""
    db_path.unlink(missing_ok=True)
    conn = sqlite3.connect(db_path)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute(
            "CREATE TABLE reports (number INTEGER NOT NULL, category TEXT NOT NULL, occurred_at TEXT, "
            "note TEXT, report_id TEXT)"
        )
        started = time.perf_counter()
        with data.csv_path.open(encoding="utf-8", newline="") as stream:
            reader = csv.reader(stream)
            next(reader)
            rows = ((int(r[0][1:]), r[1], r[2], r[3] or None, r[4] or None) for r in reader)
            with conn:
                conn.executemany("INSERT INTO reports VALUES (?, ?, ?, ?, ?)", rows)
        return time.perf_counter() - started
    finally:
        conn.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)


def remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


# --------------------------------------------------------------------------------------------------------------------
# servers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    ready_s: float = 0.0

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


class Servers:
    """Starts servers in their own process group and makes sure every one of them is stopped."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.running: list[Server] = []

    def start(self, name: str, kind: str, database: Path | None, ready_path: str = "/health") -> Server:
        port = free_port()
        env = dict(os.environ)
        cwd: Path | None = None
        if kind == "granian":
            command = ["granian", "--interface", "asgi", "--factory", "--workers", "1", "--host", HOST,
                       "--port", str(port), "--log-level", "warning", "ringfence.api.asgi:app"]  # fmt: skip
        elif kind == "uvicorn":
            command = ["uvicorn", "--factory", "--no-access-log", "--log-level", "warning", "--workers", "1",
                       "--host", HOST, "--port", str(port), "ringfence.api.asgi:app"]  # fmt: skip
        elif kind == "bare":
            command = ["granian", "--interface", "asgi", "--workers", "1", "--host", HOST, "--port", str(port),
                       "--log-level", "warning", "hello_asgi:app"]  # fmt: skip
            cwd = HERE
        else:
            raise ValueError(kind)
        if database is not None:
            env["RINGFENCE_DATABASE_URL"] = f"sqlite:///{database}"
        log = self.workdir / f"{name}-{port}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        server = Server(name, process, port, log)
        self.running.append(server)
        started = time.perf_counter()
        deadline = started + READY_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(server.url + ready_path, timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{name} not ready after {READY_TIMEOUT_S:.0f} s:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        server.ready_s = time.perf_counter() - started
        return server

    def stop(self, server: Server) -> None:
        process = server.process
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
            except ProcessLookupError:
                pass
        # workers left behind in the group (the group id is the leader's pid)
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        if server in self.running:
            self.running.remove(server)

    def stop_all(self) -> None:
        for server in list(self.running):
            try:
                self.stop(server)
            except Exception as exc:
                print(f"warning: could not stop {server.name}: {exc}", file=sys.stderr)

    @contextmanager
    def serving(self, name: str, kind: str, database: Path | None, ready_path: str = "/health") -> Iterator[Server]:
        server = self.start(name, kind, database, ready_path)
        try:
            yield server
        finally:
            self.stop(server)


def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants, from the parent ids in /proc/*/stat."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def rss_mb(root: int) -> float:
    """Sum of VmRSS over the process tree of ``root``, in MB (10^6 bytes)."""
    total_kb = 0
    for pid in process_tree(root):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
                    break
        except OSError:
            continue
    return total_kb * 1024 / 1e6


def warm_up(server: Server, key: str, data: Data) -> None:
    """A few hundred single lookups and a few batch lookups, all of which must succeed."""
    headers = {"Authorization": f"Bearer {key}"}
    picks = data.lookup_list[:WARMUP_REQUESTS].tolist()
    body = orjson.dumps({"numbers": [f"+{n}" for n in data.batch.tolist()]})
    with httpx.Client(base_url=server.url, headers=headers, timeout=30.0) as client:
        for n in picks:
            client.get(f"/v1/numbers/+{n}").raise_for_status()
        for _ in range(3):
            client.post(
                "/v1/numbers/lookup", content=body, headers={"Content-Type": "application/json"}
            ).raise_for_status()


# --------------------------------------------------------------------------------------------------------------------
# load generators


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


_WRK_LINE = re.compile(r"RFRESULT (.*)")


def wrk(url: str, script: Path, args: Sequence[str], *, connections: int, seconds: int) -> WrkResult:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script), url,
               "--", *args]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
    match = _WRK_LINE.search(done.stdout)
    if done.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    values = dict(item.split("=") for item in match.group(1).split())
    errors = sum(int(values[k]) for k in ("connect", "read", "write", "status", "timeout"))
    return WrkResult(float(values["rps"]), int(values["p50_us"]) / 1000, int(values["p99_us"]) / 1000, errors)


def redis_benchmark(*command: str, seconds: int) -> tuple[float, float]:
    """requests/s and p50 (ms) of ``redis-benchmark -c 64 -q`` for one test (``-t get``) or one custom command."""
    base = ["redis-benchmark", "-h", HOST, "-p", "6379", "-c", "64", "-n", str(REDIS_BENCH_REQUESTS), "-q"]
    done = subprocess.run([*base, *command], capture_output=True, text=True, timeout=seconds + 60, check=False)
    # "GET: 93457.94 requests per second, p50=0.327 msec" (the progress lines end in \r)
    lines = [part for part in re.split(r"[\r\n]", done.stdout) if "requests per second" in part]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"redis-benchmark failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    rps = float(re.search(r"([\d.]+) requests per second", lines[-1]).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"p50=([\d.]+)", lines[-1])
    return rps, float(p50.group(1)) if p50 else float("nan")


def rate(call: Callable[[], int], seconds: float) -> float:
    """Items per second of ``call`` (which returns how many items it did), repeated for ``seconds``."""
    call()  # warm
    done, started = 0, time.perf_counter()
    deadline = started + seconds
    while True:
        done += call()
        now = time.perf_counter()
        if now >= deadline:
            return done / (now - started)


def load_redis(client: redis.Redis, numbers: np.ndarray) -> None:
    client.delete(REDIS_KEY)
    values = numbers.tolist()
    for start in range(0, len(values), 20_000):
        pipe = client.pipeline(transaction=False)
        for part in range(start, min(len(values), start + 20_000), 5_000):
            pipe.sadd(REDIS_KEY, *values[part : min(part + 5_000, start + 20_000)])
        pipe.execute()
    count = client.scard(REDIS_KEY)
    if count != len(numbers):
        raise RuntimeError(f"{REDIS_KEY} holds {count} members, expected {len(numbers)}")


def smismember_call(client: redis.Redis, numbers: list[int]) -> Callable[[], int]:
    def call() -> int:
        pipe = client.pipeline(transaction=False)
        for start in range(0, len(numbers), 1_000):
            pipe.smismember(REDIS_KEY, numbers[start : start + 1_000])
        found = pipe.execute()
        return sum(len(f) for f in found)

    return call


# --------------------------------------------------------------------------------------------------------------------
# the run


def figures() -> dict[str, Figure]:
    """The result table, in print order."""
    rows = [
        Figure("bulk import (CSV, fresh SQLite)", "reports/s", "naive executemany INSERT", target=50_000),
        Figure("server RSS, empty database", "MB"),
        Figure("server RSS, with the listings", "MB", "same, after the wrk loads"),
        Figure("RSS of the listings (full - empty)", "MB", "Redis MEMORY USAGE of the set", 150, False),
        Figure("granian start-up to /health (index load)", "s"),
        Figure("HTTP GET /v1/numbers/{n}, granian", "req/s", "redis-benchmark GET -c 64", 0.4, target_on_ratio=True),
        Figure("  latency p50, granian", "ms", "redis-benchmark GET p50"),
        Figure("  latency p99, granian", "ms"),
        Figure("redis-benchmark SISMEMBER -c 64 (reference only)", "req/s"),
        Figure("HTTP GET /v1/numbers/{n}, uvicorn", "req/s", "same on granian"),
        Figure("  latency p99, uvicorn", "ms", "same on granian"),
        Figure("bare ASGI hello on granian (ceiling)", "req/s", "ringfence GET on granian"),
        Figure("HTTP POST /v1/numbers/lookup, 10,000/request", "numbers/s", "Redis SMISMEMBER pipelined", 1_000_000),
        Figure("  latency p50 per 10,000-number request", "ms"),
        Figure("in-process lookup_many, 10,000-number arrays", "numbers/s", "Python set membership loop", 2_000_000),
        Figure("in-process lookup(n), one call per number", "calls/s", "Python set membership loop"),
    ]
    keys = "import rss_empty rss_full rss_delta startup single single_p50 single_p99 sismember uvicorn uvicorn_p99"
    keys += " bare batch batch_p50 lookup_many lookup_one"
    return dict(zip(keys.split(), rows, strict=True))


def in_process(database: Path, data: Data, seconds: float) -> tuple[float, float, float]:
    """numbers/s of lookup_many on 10,000-number arrays, calls/s of lookup(n), and of a Python set loop."""
    runtime = Runtime.open(Settings(database_url=f"sqlite:///{database}"))
    try:
        registry = runtime.registry
        arrays = [np.ascontiguousarray(a) for a in np.array_split(data.lookup_list, len(data.lookup_list) // BATCH)]
        picks = data.lookup_list[:BATCH].tolist()
        listed_set = set(data.listed.tolist())
        turn = [0]

        def many() -> int:
            turn[0] += 1
            return len(registry.lookup_many(arrays[turn[0] % len(arrays)]).found)

        def singles() -> int:
            lookup = registry.lookup
            for n in picks:
                lookup(n)
            return len(picks)

        def set_loop() -> int:
            hits = 0
            for n in picks:
                if n in listed_set:
                    hits += 1
            return len(picks)

        return rate(many, seconds), rate(singles, seconds), rate(set_loop, seconds)
    finally:
        runtime.close()


class Bench:
    def __init__(self, args: argparse.Namespace, client: redis.Redis, workdir: Path) -> None:
        self.args = args
        self.seconds: int = args.seconds
        self.in_process_s = max(1.0, args.seconds / 4)
        self.client = client
        self.workdir = workdir
        self.servers = Servers(workdir)
        self.f = figures()
        self.full_db = workdir / "full.db"
        self.full_key = ""
        self.empty_db = workdir / "empty.db"
        self.empty_key = ""

    def prepare(self) -> Data:
        started = time.perf_counter()
        data = make_data(self.workdir, self.args.listings)
        size = data.csv_path.stat().st_size / 1e6
        print(f"data: {data.csv_rows:,} CSV rows ({size:.0f} MB) in {time.perf_counter() - started:.1f} s", flush=True)
        (self.workdir / "numbers.txt").write_text("".join(f"+{n}\n" for n in data.lookup_list.tolist()))
        body = orjson.dumps({"numbers": [f"+{n}" for n in data.batch.tolist()]})
        (self.workdir / "batch.json").write_bytes(body)
        load_redis(self.client, data.listed)
        self.f["rss_delta"].references.append(float(self.client.memory_usage(REDIS_KEY) or 0) / 1e6)
        new_database(self.empty_db).close()
        self.empty_key = add_reader(self.empty_db)
        return data

    def single_load(self, server: Server) -> WrkResult:
        args = [str(self.workdir / "numbers.txt"), self.full_key]
        return wrk(server.url, HERE / "wrk_single.lua", args, connections=64, seconds=self.seconds)

    def run(self, run: int, data: Data) -> None:
        f = self.f
        # 1. bulk import; the first run's database serves every HTTP and in-process figure
        db = self.workdir / f"import-{run}.db"
        elapsed, accepted = time_import(data, db)
        naive = time_naive_insert(data, self.workdir / "naive.db")
        f["import"].values.append(data.csv_rows / elapsed)
        f["import"].references.append(data.csv_rows / naive)
        print(
            f"import: {data.csv_rows:,} rows ({accepted:,} accepted) in {elapsed:.1f} s = "
            f"{data.csv_rows / elapsed:,.0f}/s; naive executemany {data.csv_rows / naive:,.0f}/s",
            flush=True,
        )
        if not self.full_key:
            db.rename(self.full_db)
            for suffix in ("-wal", "-shm"):  # closed cleanly, so these are normally gone
                if Path(f"{db}{suffix}").exists():
                    Path(f"{db}{suffix}").rename(f"{self.full_db}{suffix}")
            self.full_key = add_reader(self.full_db)
        else:
            remove_database(db)

        # 2. RSS, empty then full; 3. and 5. single and batch lookups on the full server
        with self.servers.serving("granian-empty", "granian", self.empty_db) as server:
            warm_up(server, self.empty_key, data)
            f["rss_empty"].values.append(rss_mb(server.process.pid))
        with self.servers.serving("granian-full", "granian", self.full_db) as server:
            f["startup"].values.append(server.ready_s)
            warm_up(server, self.full_key, data)
            f["rss_full"].values.append(rss_mb(server.process.pid))
            single = self.single_load(server)
            body = [str(self.workdir / "batch.json"), self.full_key]
            batch = wrk(server.url, HERE / "wrk_batch.lua", body, connections=2, seconds=self.seconds)
            f["rss_full"].references.append(rss_mb(server.process.pid))
        f["rss_delta"].values.append(f["rss_full"].values[-1] - f["rss_empty"].values[-1])
        print(
            f"RSS: empty {f['rss_empty'].values[-1]:.0f} MB, full {f['rss_full'].values[-1]:.0f} MB "
            f"(after the loads {f['rss_full'].references[-1]:.0f} MB); start-up {f['startup'].values[-1]:.1f} s\n"
            f"granian single: {single.rps:,.0f} req/s p50 {single.p50_ms:.2f} ms p99 {single.p99_ms:.2f} ms; "
            f"batch: {batch.rps:.2f} req/s p50 {batch.p50_ms:.0f} ms",
            flush=True,
        )
        f["single"].values.append(single.rps)
        f["single_p50"].values.append(single.p50_ms)
        f["single_p99"].values.append(single.p99_ms)
        f["batch"].values.append(batch.rps * BATCH)
        f["batch_p50"].values.append(batch.p50_ms)

        # 4. server choice: uvicorn on the same database, a bare app on granian
        with self.servers.serving("uvicorn-full", "uvicorn", self.full_db) as server:
            warm_up(server, self.full_key, data)
            on_uvicorn = self.single_load(server)
        with self.servers.serving("bare", "bare", None, ready_path="/") as server:
            bare = self.single_load(server)
        f["uvicorn"].values.append(on_uvicorn.rps)
        f["uvicorn"].references.append(single.rps)
        f["uvicorn_p99"].values.append(on_uvicorn.p99_ms)
        f["uvicorn_p99"].references.append(single.p99_ms)
        f["bare"].values.append(bare.rps)
        f["bare"].references.append(single.rps)
        print(
            f"uvicorn single: {on_uvicorn.rps:,.0f} req/s p99 {on_uvicorn.p99_ms:.2f} ms; bare: {bare.rps:,.0f} req/s"
        )
        for result, name in ((single, "granian"), (batch, "batch"), (on_uvicorn, "uvicorn"), (bare, "bare")):
            if result.errors:
                print(f"warning: {result.errors} wrk errors or non-2xx answers ({name})", file=sys.stderr)

        # references: Redis
        get_rps, get_p50 = redis_benchmark("-t", "get", seconds=self.seconds)
        sis_rps, _ = redis_benchmark("-r", "1000000", "SISMEMBER", REDIS_KEY, "__rand_int__", seconds=self.seconds)
        smis = rate(smismember_call(self.client, data.batch.tolist()), self.in_process_s)
        f["single"].references.append(get_rps)
        f["single_p50"].references.append(get_p50)
        f["sismember"].values.append(sis_rps)
        f["batch"].references.append(smis)
        print(f"redis: GET {get_rps:,.0f}/s (p50 {get_p50} ms), SISMEMBER {sis_rps:,.0f}/s, SMISMEMBER {smis:,.0f}/s")

        # 6. in process
        many, one, in_set = in_process(self.full_db, data, self.in_process_s)
        f["lookup_many"].values.append(many)
        f["lookup_many"].references.append(in_set)
        f["lookup_one"].values.append(one)
        f["lookup_one"].references.append(in_set)
        print(f"in process: lookup_many {many:,.0f}/s, lookup {one:,.0f}/s, set loop {in_set:,.0f}/s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--listings", type=int, default=1_000_000, help="distinct listed numbers (default 1,000,000)")
    parser.add_argument("--seconds", type=int, default=10, help="duration of each wrk load (default 10)")
    parser.add_argument("--runs", type=int, default=3, help="runs; medians are printed (default 3)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (CSV, databases, logs)")
    args = parser.parse_args()
    for tool in ("wrk", "redis-benchmark", "granian", "uvicorn"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not on PATH")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the clean-up on SIGTERM too

    client = redis.Redis(host=HOST, port=6379)
    client.ping()
    workdir = Path(tempfile.mkdtemp(prefix="ringfence-bench-"))
    bench = Bench(args, client, workdir)
    try:
        machine = machine_line(client)
        print(f"machine: {machine}")
        print(f"listings: {args.listings:,}; wrk loads of {args.seconds} s; {args.runs} runs; work dir {workdir}")
        data = bench.prepare()
        for run in range(1, args.runs + 1):
            print(f"\n--- run {run}/{args.runs}", flush=True)
            bench.run(run, data)
        print(f"\nmachine: {machine}")
        print(
            f"listings: {args.listings:,} ({data.csv_rows:,} CSV rows, 5% repeating a number); medians of "
            f"{args.runs} runs; wrk -t1 -c64 (single) / -c2 (batch), {args.seconds} s each\n"
        )
        print(table(list(bench.f.values()), args.runs))
    finally:
        bench.servers.stop_all()
        try:
            client.delete(REDIS_KEY)
        except redis.RedisError as exc:
            print(f"warning: could not delete {REDIS_KEY}: {exc}", file=sys.stderr)
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
