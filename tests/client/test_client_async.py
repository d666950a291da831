"""AsyncRingfenceClient against a real server: the same calls, awaited, and the change stream under asyncio."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from ringfence.client import AsyncRingfenceClient, AuthError, FeedExpired, LookupFailure, LookupResult
from ringfence.clock import FixedClock
from ringfence.config import Settings
from ringfence.registry.models import Category, NewReport, Role
from ringfence.runtime import Runtime
from tests.conftest import START_MS
from tests.live import live_server
from tests.support import Keys

WAIT_S = 15.0


@pytest.fixture
def database_url(tmp_path: object) -> str:
    return f"sqlite:///{tmp_path}/ringfence.db"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, default_region="GB", max_batch=2)


@pytest.fixture
def url(runtime: Runtime) -> Iterator[str]:
    with live_server(runtime, daemons=False) as base:
        yield base


async def test_calls_answer_typed_results(url: str, keys: Keys) -> None:
    async with AsyncRingfenceClient(url, keys.reporter) as client:
        created = await client.report("020 7946 0700", "irsf", occurred_at="2026-09-20T10:00:00Z", report_id="a-1")
        assert created.created and created.report.number == "+442079460700"
        results = await client.lookup_many(["+442079460700", "junk", "+442079460701", "020 7946 0700", "+44"])
        assert client.max_batch == 2
        assert [type(r) for r in results] == [LookupResult, LookupFailure, LookupResult, LookupResult, LookupFailure]
        assert [r.listed for r in results if isinstance(r, LookupResult)] == [True, False, True]
        assert (await client.lookup("+442079460700")).listing is not None
        assert await client.head() == 1
    async with AsyncRingfenceClient(url, keys.reader) as reader:
        with pytest.raises(AuthError) as caught:
            await reader.report("+442079460702", "irsf")
        assert caught.value.status == 403


async def test_the_stream_yields_changes_made_after_it_started(
    url: str, keys: Keys, runtime: Runtime, clock: FixedClock
) -> None:
    writer = runtime.members.add("direct-writer", Role.REPORTER)[0]
    async with AsyncRingfenceClient(url, keys.reader) as client:
        stream = await client.changes(categories=["wangiri"])

        async def write() -> None:
            for i, category in enumerate([Category.IRSF, Category.WANGIRI, Category.WANGIRI]):
                await asyncio.to_thread(
                    runtime.registry.report, writer, NewReport(442079460710 + i, category, START_MS)
                )

        async def first_two() -> list[int]:
            seqs = []
            async for change in stream:
                seqs.append(change.seq)
                if len(seqs) == 2:
                    break
            return seqs

        writing = asyncio.create_task(write())
        assert await asyncio.wait_for(first_two(), WAIT_S) == [2, 3]
        await writing
        await stream.aclose()
        assert stream.closed and stream.last_seq == 3
        with pytest.raises(StopAsyncIteration):
            await stream.__anext__()

        # an expired start is refused
        clock.advance(runtime.settings.change_retention * 1000 + 1)
        runtime.registry.report(writer, NewReport(442079460720, Category.IRSF, clock.now_ms()))
        runtime.feed.log.prune(clock.now_ms() - runtime.settings.change_retention * 1000)
        old = await client.changes(since=1)
        with pytest.raises(FeedExpired):
            await asyncio.wait_for(old.__anext__(), WAIT_S)
