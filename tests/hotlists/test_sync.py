"""Auto-sync: new files in a watched folder (real files) and new content at a polled URL (a real HTTP server on
loopback) become new versions, once each; refused content leaves the current version; the daemon does it all on
its own and the listeners hear of each version."""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import os
import time
from pathlib import Path

import httpx

from ringfence.daemons import start_daemons
from ringfence.hotlists.daemon import DAEMON
from ringfence.hotlists.models import HotlistVersion
from ringfence.hotlists.service import HotlistOptions
from ringfence.hotlists.sync import Syncer
from ringfence.runtime import Runtime
from tests.hotlists.publisher import publisher_at

MAX_BYTES = 1 << 20


def numbers_of(runtime: Runtime, name: str) -> list[tuple[int, str, int]]:
    return [(v.number, v.source, v.added) for v in runtime.hotlists.versions(name)]


def write(path: Path, text: str | bytes, *, age_s: float = 0) -> None:
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    if age_s:
        moment = time.time() - age_s
        os.utime(path, (moment, moment))


async def settle(syncer: Syncer, client: httpx.AsyncClient) -> list[str]:
    """Two passes: the first sees new files, the second imports those that held still."""
    made = await syncer.run_once(client)
    made += await syncer.run_once(client)
    return [o.version.source for o in made]


async def test_new_files_of_a_watched_folder_are_imported_once_each(runtime: Runtime, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    runtime.hotlists.create(None, "irsf", HotlistOptions(folder=str(drop)))
    syncer = Syncer(runtime.hotlists, max_bytes=MAX_BYTES)
    async with httpx.AsyncClient() as client:
        assert await settle(syncer, client) == []
        write(drop / "week-37.txt", "+3725521234\n+3725521235\n", age_s=60)
        write(drop / "week-38.csv.gz", gzip.compress(b"number\n+3725521235\n+88216*\n"))
        write(drop / ".hidden.txt", "+3725521299\n")
        write(drop / "week-39.txt.part", "+3725521299\n")
        (drop / "sub").mkdir()
        assert await syncer.run_once(client) == []  # seen once: not yet known to be complete
        made = await syncer.run_once(client)
        assert [o.version.source for o in made] == ["week-37.txt", "week-38.csv.gz"]  # oldest first
        assert numbers_of(runtime, "irsf") == [(1, "week-37.txt", 2), (2, "week-38.csv.gz", 1)]
        assert await settle(syncer, client) == []

        write(drop / "week-37.txt", "+3725521234\n+3725521236\n")  # rewritten: new content, a new version
        assert await settle(syncer, client) == ["week-37.txt"]
        write(drop / "week-37.txt", "+3725521234\n+3725521236\n")  # touched, same content: nothing new
        assert await settle(syncer, client) == []
        assert [v.number for v in runtime.hotlists.versions("irsf")] == [1, 2, 3]

        other_node = Syncer(runtime.hotlists, max_bytes=MAX_BYTES)  # the same folder seen from a second node
        assert await settle(other_node, client) == []


async def test_a_file_that_is_still_being_written_waits(runtime: Runtime, tmp_path: Path) -> None:
    runtime.hotlists.create(None, "irsf", HotlistOptions(folder=str(tmp_path)))
    syncer = Syncer(runtime.hotlists, max_bytes=MAX_BYTES)
    async with httpx.AsyncClient() as client:
        write(tmp_path / "big.txt", "+3725521234\n")
        assert await syncer.run_once(client) == []
        with (tmp_path / "big.txt").open("a") as growing:
            growing.write("+3725521235\n")
        assert await syncer.run_once(client) == []  # it changed since the last look
        [outcome] = await syncer.run_once(client)
        assert outcome.version.entries == 2


async def test_a_refused_file_leaves_the_version_and_is_not_retried(runtime: Runtime, tmp_path: Path) -> None:
    runtime.hotlists.create(None, "irsf", HotlistOptions(folder=str(tmp_path)))
    syncer = Syncer(runtime.hotlists, max_bytes=MAX_BYTES)
    async with httpx.AsyncClient() as client:
        write(tmp_path / "good.txt", "+3725521234\n", age_s=10)
        write(tmp_path / "bad.txt", "junk\nmore junk\n")
        write(tmp_path / "huge.txt", "+3725521235\n" * 100_000)
        assert await settle(syncer, client) == ["good.txt"]
        assert await settle(syncer, client) == []
        assert [v.number for v in runtime.hotlists.versions("irsf")] == [1]
        assert runtime.hotlists.check(3725521234) != []
        write(tmp_path / "bad.txt", "+3725521236\n")  # fixed: now it is imported
        assert await settle(syncer, client) == ["bad.txt"]


async def test_a_polled_url_is_imported_when_its_content_changes(runtime: Runtime) -> None:
    with publisher_at() as publisher:
        publisher.publish("+3725521234\n+88216*\n")
        publisher.etag = True
        runtime.hotlists.create(None, "feed", HotlistOptions(url=publisher.url, every_s=3600))
        syncer = Syncer(runtime.hotlists, max_bytes=MAX_BYTES)
        async with httpx.AsyncClient() as client:
            [first] = await syncer.run_once(client)
            assert (first.version.number, first.version.source, first.version.added) == (1, publisher.url, 2)
            assert await syncer.run_once(client) == [] and publisher.count == 1  # not due for an hour

            hotlist = runtime.hotlists.get("feed")
            assert await syncer.poll_url(hotlist, client) is None  # the same content
            assert publisher.requests[-1].get("If-None-Match")  # asked conditionally: answered 304
            publisher.etag = False
            assert await syncer.poll_url(hotlist, client) is None  # 200 with the same content: same SHA-256
            assert publisher.count == 3

            publisher.publish("+3725521234\n+3725521299\n")
            changed = await syncer.poll_url(hotlist, client)
            assert changed is not None and changed.version.number == 2
            assert [e.pattern for e in runtime.hotlists.diff("feed", 2).added] == ["+3725521299"]
            assert runtime.hotlists.check(88216123456) == []


async def test_a_failing_url_leaves_the_version(runtime: Runtime) -> None:
    with publisher_at() as publisher:
        publisher.publish("+3725521234\n")
        runtime.hotlists.create(None, "feed", HotlistOptions(url=publisher.url, every_s=3600))
        syncer = Syncer(runtime.hotlists, max_bytes=MAX_BYTES, timeout_s=0.3)
        async with httpx.AsyncClient() as client:
            hotlist = runtime.hotlists.get("feed")
            assert await syncer.poll_url(hotlist, client) is not None
            publisher.publish("junk\n")
            assert await syncer.poll_url(hotlist, client) is None  # no valid numbers: refused
            publisher.status = 503
            assert await syncer.poll_url(hotlist, client) is None
            publisher.status, publisher.stall_s = 200, 2.0
            started = time.monotonic()
            assert await syncer.poll_url(hotlist, client) is None  # past the timeout
            assert time.monotonic() - started < 1.5
            publisher.stall_s = 0
            publisher.publish("+3725521234\n" + "+3725521299\n" * 200_000)  # over the size limit
            small = Syncer(runtime.hotlists, max_bytes=1000)
            assert await small.poll_url(hotlist, client) is None
        assert [v.number for v in runtime.hotlists.versions("feed")] == [1]
        assert runtime.hotlists.check(3725521234) != []


async def test_the_daemon_syncs_by_itself_and_announces_each_version(runtime: Runtime, tmp_path: Path) -> None:
    runtime.settings = dataclasses.replace(runtime.settings, feed_poll_ms=50)
    heard: list[HotlistVersion] = []
    runtime.hotlists.subscribe(heard.append)
    with publisher_at() as publisher:
        publisher.publish("+88216*\n")
        runtime.hotlists.create(None, "from-url", HotlistOptions(url=publisher.url, every_s=1))
        runtime.hotlists.create(None, "from-folder", HotlistOptions(folder=str(tmp_path)))
        running = start_daemons(runtime, [DAEMON])
        try:
            write(tmp_path / "drop.txt", "+3725521234\n")
            await _until(lambda: len(heard) >= 2)
            assert sorted((v.hotlist, v.number) for v in heard) == [("from-folder", 1), ("from-url", 1)]
            publisher.publish("+88216*\n+88213xxxxxx\n")
            await _until(lambda: len(heard) >= 3, timeout=5)
            assert (heard[-1].hotlist, heard[-1].number, heard[-1].added) == ("from-url", 2, 1)
            assert runtime.hotlists.check(88213123456) != []
        finally:
            await running.stop()


async def _until(condition: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)
