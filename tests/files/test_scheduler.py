"""Scheduled snapshots and deltas, and the daemons of a serving node (files, SFTP)."""

from __future__ import annotations

import asyncio
import dataclasses
import socket

import asyncssh
import pytest

from ringfence.clock import FixedClock
from ringfence.daemons import all_daemons, start_daemons
from ringfence.files.credentials import SftpCredentials
from ringfence.files.scheduler import DAEMON as FILES
from ringfence.files.scheduler import Schedule
from ringfence.files.sftp import DAEMON as SFTP
from ringfence.files.snapshots import Snapshots
from ringfence.registry.models import Category, Member, NewReport
from ringfence.runtime import Runtime
from tests.files.helpers import NUMBERS, report_some

HOUR_S, DAY_S = 3600, 86400


def _report(runtime: Runtime, clock: FixedClock, member: Member, number: int) -> None:
    runtime.registry.report(member, NewReport(number, Category.VISHING, clock.now_ms()))


def test_full_snapshots_and_deltas_on_their_intervals(
    runtime: Runtime, clock: FixedClock, snapshots: Snapshots, carrier: Member
) -> None:
    report_some(runtime, clock, [carrier])
    schedule = Schedule(snapshots, DAY_S, HOUR_S)
    written, wait = schedule.tick()  # an empty folder: a full snapshot at once
    assert written is not None and written.kind == "full" and wait == HOUR_S
    assert schedule.tick() == (None, HOUR_S)

    _report(runtime, clock, carrier, NUMBERS[0])
    clock.advance(HOUR_S * 1000 - 1)
    assert schedule.tick() == (None, 0.001)
    clock.advance(1)
    written, wait = schedule.tick()
    assert written is not None and written.kind == "delta" and wait == HOUR_S

    clock.advance(HOUR_S * 1000)  # due, but nothing changed: no delta
    assert schedule.tick() == (None, HOUR_S)

    _report(runtime, clock, carrier, NUMBERS[1])
    clock.advance(DAY_S * 1000)  # both due: the full snapshot, and the delta an interval later
    written, wait = schedule.tick()
    assert written is not None and written.kind == "full" and wait == HOUR_S
    assert [s.kind for s in snapshots.drop.sets()] == ["full", "delta", "full"]


def test_a_restarted_schedule_continues_from_the_folder(
    runtime: Runtime, clock: FixedClock, snapshots: Snapshots, carrier: Member
) -> None:
    report_some(runtime, clock, [carrier])
    Schedule(snapshots, DAY_S, 0).tick()
    clock.advance(HOUR_S * 1000)
    restarted = Schedule(snapshots, DAY_S, 0)
    assert restarted.tick() == (None, DAY_S - HOUR_S)  # the snapshot of an hour ago is still fresh
    clock.advance((DAY_S - HOUR_S) * 1000)
    written, _wait = restarted.tick()
    assert written is not None and written.kind == "full"


def test_deltas_alone_start_from_a_full_snapshot(
    runtime: Runtime, clock: FixedClock, snapshots: Snapshots, carrier: Member
) -> None:
    report_some(runtime, clock, [carrier])
    schedule = Schedule(snapshots, 0, HOUR_S)
    written, wait = schedule.tick()
    assert written is not None and written.kind == "full" and wait == HOUR_S
    _report(runtime, clock, carrier, NUMBERS[0])
    clock.advance(HOUR_S * 1000)
    written, _wait = schedule.tick()
    assert written is not None and written.kind == "delta"


def test_a_delta_past_the_feeds_retention_becomes_a_full_snapshot(
    runtime: Runtime, clock: FixedClock, snapshots: Snapshots, carrier: Member
) -> None:
    report_some(runtime, clock, [carrier])
    schedule = Schedule(snapshots, 0, HOUR_S)
    schedule.tick()
    for number in NUMBERS[:3]:
        clock.advance(1000)
        _report(runtime, clock, carrier, number)
    runtime.feed.log.prune(clock.now_ms() + 1)
    clock.advance(HOUR_S * 1000)
    written, _wait = schedule.tick()
    assert written is not None and written.kind == "full" and written.seq_to == runtime.feed.log.head()


def test_the_daemons_are_declared_and_follow_the_settings(runtime: Runtime) -> None:
    names = [d.name for d in all_daemons()]
    assert "files" in names and "sftp" in names
    assert not FILES.enabled(runtime) and not SFTP.enabled(runtime)  # off by default
    runtime.settings = dataclasses.replace(runtime.settings, delta_interval=900, sftp_port=2222)
    assert FILES.enabled(runtime) and SFTP.enabled(runtime)


async def test_the_files_daemon_writes_a_snapshot(
    runtime: Runtime, clock: FixedClock, snapshots: Snapshots, carrier: Member
) -> None:
    report_some(runtime, clock, [carrier])
    runtime.settings = dataclasses.replace(runtime.settings, snapshot_interval=DAY_S)
    running = start_daemons(runtime, [FILES])
    try:
        for _ in range(200):
            if snapshots.drop.sets():
                break
            await asyncio.sleep(0.05)
        assert [s.kind for s in snapshots.drop.sets()] == ["full"]
        assert not running.tasks["files"].done()
    finally:
        await running.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_the_sftp_daemon_serves_on_its_port(runtime: Runtime, carrier: Member, snapshots: Snapshots) -> None:
    snapshots.write_full()
    port = _free_port()
    runtime.settings = dataclasses.replace(runtime.settings, sftp_port=port, sftp_host="127.0.0.1")
    SftpCredentials(runtime.engine, runtime.clock).set_password(carrier, "a long enough password")
    running = start_daemons(runtime, [SFTP])
    try:
        for _ in range(100):
            try:
                conn = await asyncssh.connect(
                    "127.0.0.1",
                    port,
                    username=carrier.name,
                    password="a long enough password",
                    known_hosts=None,
                    client_keys=None,
                    agent_path=None,
                    config=None,
                )
                break
            except OSError:
                await asyncio.sleep(0.05)
        else:
            pytest.fail("the SFTP daemon did not start listening")
        async with conn, conn.start_sftp_client() as sftp:
            assert snapshots.drop.sets()[0].manifest in await sftp.listdir("/")
    finally:
        await running.stop()
