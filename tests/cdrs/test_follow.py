"""Following a growing file: appended lines once each, partial lines wait, truncation and rotation survived."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ringfence.cdrs.follow import follow
from ringfence.cdrs.reader import CdrRead, CdrReader

HEADER = b"start,caller,called,duration_s,answered,direction,subscriber,route,cost\n"
POLL = 0.01


def line(i: int) -> bytes:
    return f"2026-09-21T14:13:{i % 60:02d}Z,+447700900123,+4420794600{i:02d},5,true,outgoing,,T1,\n".encode()


class Follower:
    """Collects what follow yields, in a task, so the test can write between reads."""

    def __init__(self, path: Path, reader: CdrReader, **options: object) -> None:
        self.reads: list[CdrRead] = []
        self._iter: AsyncIterator[CdrRead] = follow(path, reader, poll_s=POLL, **options)  # type: ignore[arg-type]
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for read in self._iter:
            self.reads.append(read)

    def called(self) -> list[int]:
        return [n % 100 for r in self.reads for n in r.frame["called"].to_list()]

    def lines(self) -> list[int]:
        return [n for r in self.reads for n in r.frame["line"].to_list()]

    async def wait_for(self, count: int, timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.called()) < count:
                await asyncio.sleep(POLL)

    async def settle(self) -> None:
        await asyncio.sleep(POLL * 20)

    async def stop(self) -> None:
        self._task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self._task
        await self._iter.aclose()  # type: ignore[attr-defined]


def append(path: Path, data: bytes) -> None:
    with open(path, "ab") as out:
        out.write(data)


async def test_appended_lines_once_each_and_a_partial_line_waits(tmp_path: Path) -> None:
    path = tmp_path / "cdrs.csv"
    path.write_bytes(HEADER + line(1))
    reader = CdrReader()
    follower = Follower(path, reader)
    await follower.wait_for(1)
    half = line(2)
    append(path, line(2)[:20])
    await follower.settle()
    assert follower.called() == [1]  # the partial line waits for its end
    append(path, half[20:] + line(3))
    await follower.wait_for(3)
    await follower.settle()
    assert follower.called() == [1, 2, 3] and follower.lines() == [2, 3, 4]
    assert [n for r in follower.reads for n in r.frame["seq"].to_list()] == [0, 1, 2]
    await follower.stop()


async def test_truncation_reads_the_file_again_from_its_header(tmp_path: Path) -> None:
    path = tmp_path / "cdrs.csv"
    path.write_bytes(HEADER + line(1) + line(2))
    follower = Follower(path, CdrReader())
    await follower.wait_for(2)
    with open(path, "wb") as out:  # copytruncate, then the writer goes on
        out.write(HEADER + line(3))
    await follower.wait_for(3)
    append(path, line(4))
    await follower.wait_for(4)
    await follower.settle()
    assert follower.called() == [1, 2, 3, 4] and follower.lines() == [2, 3, 2, 3]
    await follower.stop()


async def test_a_refill_past_the_old_position_is_noticed(tmp_path: Path) -> None:
    path = tmp_path / "cdrs.csv"
    path.write_bytes(HEADER + line(1))
    follower = Follower(path, CdrReader())
    await follower.wait_for(1)
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)  # truncate and refill, longer than before, between two polls
    os.write(fd, HEADER + line(7) + line(8) + line(9))
    os.close(fd)
    await follower.wait_for(4)
    await follower.settle()
    assert follower.called() == [1, 7, 8, 9]
    await follower.stop()


async def test_rotation_finishes_the_old_file_and_follows_the_new(tmp_path: Path) -> None:
    path = tmp_path / "cdrs.csv"
    path.write_bytes(HEADER + line(1))
    follower = Follower(path, CdrReader())
    await follower.wait_for(1)
    append(path, line(2)[:-1])  # the writer's last line, never ended
    path.rename(tmp_path / "cdrs.csv.1")
    await follower.settle()  # the path is missing for a while
    path.write_bytes(HEADER + line(3))
    await follower.wait_for(3)
    append(path, line(4))
    await follower.wait_for(4)
    await follower.settle()
    assert follower.called() == [1, 2, 3, 4] and follower.lines() == [2, 3, 2, 3]
    await follower.stop()


async def test_from_the_end_reads_the_header_but_no_old_rows(tmp_path: Path) -> None:
    path = tmp_path / "cdrs.csv"
    path.write_bytes(HEADER + line(1) + line(2))
    follower = Follower(path, CdrReader(), from_start=False)
    await follower.settle()
    append(path, line(3) + b"2026-09-21T14:13:20Z,+447700900123,+44abc,5,true,outgoing,,T1,\n")
    await follower.wait_for(1)
    async with asyncio.timeout(5):
        while not any(r.quarantined for r in follower.reads):
            await asyncio.sleep(POLL)
    assert follower.called() == [3] and follower.lines() == [4]
    assert [(q.line, q.reason) for r in follower.reads for q in r.quarantined] == [(5, "invalid_number")]
    await follower.stop()


async def test_a_file_that_does_not_exist_yet_is_waited_for(tmp_path: Path) -> None:
    path = tmp_path / "later.csv"
    follower = Follower(path, CdrReader())
    await follower.settle()
    path.write_bytes(HEADER + line(5))
    await follower.wait_for(1)
    assert follower.called() == [5]
    await follower.stop()
