"""Full snapshots and deltas in the drop folder, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pytest

from ringfence.clock import FixedClock
from ringfence.errors import Gone, InvalidInput, NotFound
from ringfence.feed.views import change_view
from ringfence.files import snapshots as snapshots_module
from ringfence.files.drop import DropFolder
from ringfence.files.manifest import FileSet
from ringfence.files.snapshots import Snapshots, consistent_read, listing_chunks
from ringfence.registry.models import Category, Member, NewReport, Role
from ringfence.runtime import Runtime
from tests.files.helpers import (
    DAY_MS,
    NUMBERS,
    apply_delta,
    csv_rows,
    export_csv,
    export_jsonl,
    jsonl_rows,
    listings_from_full,
    read_set,
    report_some,
    sha256_of,
)


def _drop(snapshots: Snapshots) -> Path:
    return snapshots.drop.root


def _check_files(snapshots: Snapshots, file_set: FileSet) -> None:
    """Every file of the set is in place with the size and SHA-256 its manifest gives."""
    root = _drop(snapshots)
    for entry in file_set.files:
        path = root / entry.name
        assert path.stat().st_size == entry.bytes
        assert sha256_of(path) == entry.sha256
    manifest = orjson.loads((root / file_set.manifest).read_bytes())
    assert manifest == file_set.to_dict()
    assert FileSet.from_dict(manifest) == file_set


def _no_temporaries(snapshots: Snapshots) -> None:
    assert [p.name for p in _drop(snapshots).iterdir() if p.name.startswith(".tmp")] == []


def test_a_full_snapshot_holds_exactly_the_listings(
    runtime: Runtime, clock: FixedClock, snapshots: Snapshots, carrier: Member, bank: Member
) -> None:
    report_some(runtime, clock, [carrier, bank])
    runtime.registry.withdraw(carrier, runtime.registry.reports(member=carrier)[-1].id)
    file_set, new = snapshots.write_full()

    assert new and file_set.kind == "full"
    assert file_set.seq_from == 1 and file_set.seq_to == runtime.feed.log.head() > 0
    assert file_set.stem == f"full-{file_set.seq_to:012d}"
    assert file_set.rows == runtime.registry.listing_count() == len(list(runtime.registry.iter_listings()))
    assert [f.name for f in file_set.files] == [f"{file_set.stem}.csv.gz", f"{file_set.stem}.jsonl.gz"]
    _check_files(snapshots, file_set)
    _no_temporaries(snapshots)

    csv_data, jsonl_data = read_set(_drop(snapshots), file_set)
    assert csv_data == export_csv(runtime)  # the export's rows, byte for byte
    assert jsonl_data == export_jsonl(runtime)
    numbers = [f"+{listing.number}" for listing in runtime.registry.iter_listings()]
    assert [row["number"] for row in csv_rows(csv_data)] == numbers
    assert "member" not in csv_data.decode() and "north-telecom" not in jsonl_data.decode()


def test_csv_and_jsonl_of_a_set_agree(
    runtime: Runtime, clock: FixedClock, snapshots: Snapshots, carrier: Member, bank: Member
) -> None:
    report_some(runtime, clock, [carrier, bank])
    full, _new = snapshots.write_full()
    runtime.registry.withdraw(bank, runtime.registry.reports(member=bank)[0].id)
    report_some(runtime, clock, [bank], start=3)
    delta = snapshots.write_delta()
    assert delta is not None
    for file_set in (full, delta):
        csv_data, jsonl_data = read_set(_drop(snapshots), file_set)
        from_csv, from_jsonl = csv_rows(csv_data), jsonl_rows(jsonl_data)
        assert len(from_csv) == len(from_jsonl) == file_set.rows > 0
        assert list(from_csv[0]) == list(file_set.columns)
        for row, obj in zip(from_csv, from_jsonl, strict=True):
            flat = {**obj, **obj.pop("info", {}), **(obj.pop("listing", None) or {})}
            for column in file_set.columns:
                value = flat.get(column)
                if isinstance(value, list):
                    value = "|".join(value)
                elif isinstance(value, bool):
                    value = "true" if value else "false"
                if column in ("first_reported_at", "last_reported_at", "report_count", "reporter_count") and (
                    obj.get("listed") is False
                ):
                    value = None
                assert row[column] == ("" if value is None else str(value)), column


def test_writing_again_at_the_same_seq_gives_the_same_set(
    runtime: Runtime, clock: FixedClock, snapshots: Snapshots, carrier: Member
) -> None:
    report_some(runtime, clock, [carrier])
    first, new = snapshots.write_full()
    again, again_new = snapshots.write_full()
    assert new and not again_new and again == first
    clock.advance(60_000)
    forced, forced_new = snapshots.write_full(force=True)
    assert forced_new and forced.created_ms == first.created_ms + 60_000
    assert [f.sha256 for f in forced.files] == [f.sha256 for f in first.files]  # gzip without name or time


def test_an_empty_registry_gives_an_empty_snapshot(snapshots: Snapshots) -> None:
    file_set, _new = snapshots.write_full()
    assert (file_set.seq_to, file_set.rows) == (0, 0)
    csv_data, jsonl_data = read_set(_drop(snapshots), file_set)
    assert csv_data.startswith(b"number,country,type,valid,") and csv_data.count(b"\n") == 1
    assert jsonl_data == b""


def test_a_delta_holds_exactly_the_changes_since_the_snapshot(
    runtime: Runtime, clock: FixedClock, snapshots: Snapshots, carrier: Member, bank: Member
) -> None:
    report_some(runtime, clock, [carrier, bank])
    full, _new = snapshots.write_full()
    before = full.seq_to

    clock.advance(DAY_MS)
    runtime.registry.report(carrier, NewReport(447911999999, Category.SMISHING, clock.now_ms() - 1000))  # listed
    runtime.registry.report(bank, NewReport(NUMBERS[0], Category.WANGIRI, clock.now_ms() - 1000))  # re-reported
    runtime.registry.withdraw(carrier, runtime.registry.reports(member=carrier)[-1].id)
    admin = runtime.members.add("admin", Role.ADMIN)[0]
    runtime.registry.remove_listing(admin, NUMBERS[2])

    delta = snapshots.write_delta()
    assert delta is not None and delta.kind == "delta"
    head = runtime.feed.log.head()
    assert (delta.seq_from, delta.seq_to) == (before + 1, head)
    assert delta.stem == f"delta-{before + 1:012d}-{head:012d}"
    _check_files(snapshots, delta)

    expected = runtime.feed.log.read(before, 1000)
    assert delta.rows == len(expected) == head - before >= 4
    _csv, jsonl_data = read_set(_drop(snapshots), delta)
    assert jsonl_data == b"".join(orjson.dumps(change_view(c)) + b"\n" for c in expected)
    kinds = {row["kind"] for row in jsonl_rows(jsonl_data)}
    assert {"listed", "re_reported", "removed"} <= kinds

    # a client: load the full snapshot, apply the delta, and hold what the registry holds now
    state = listings_from_full(read_set(_drop(snapshots), full)[1])
    assert apply_delta(state, jsonl_data) == head
    assert state == listings_from_full(export_jsonl(runtime))


def test_deltas_chain_without_gap_or_overlap(
    runtime: Runtime, clock: FixedClock, snapshots: Snapshots, carrier: Member
) -> None:
    report_some(runtime, clock, [carrier])
    full, _new = snapshots.write_full()
    assert snapshots.write_delta() is None  # nothing changed: no empty delta
    sets = [full]
    for round_ in range(3):
        clock.advance(DAY_MS)
        runtime.registry.report(carrier, NewReport(NUMBERS[round_], Category.VISHING, clock.now_ms()))
        runtime.registry.report(carrier, NewReport(447911000000 + round_, Category.IRSF, clock.now_ms()))
        delta = snapshots.write_delta()
        assert delta is not None
        assert delta.seq_from == sets[-1].seq_to + 1
        sets.append(delta)
    assert sets[-1].seq_to == runtime.feed.log.head()
    assert snapshots.drop.sets() == sets

    state = listings_from_full(read_set(_drop(snapshots), full)[1])
    for delta in sets[1:]:
        apply_delta(state, read_set(_drop(snapshots), delta)[1])
    assert state == listings_from_full(export_jsonl(runtime))

    newer, _new = snapshots.write_full()  # a full snapshot at the head: the next delta follows it
    runtime.registry.report(carrier, NewReport(NUMBERS[5], Category.OTHER, clock.now_ms()))
    after = snapshots.write_delta()
    assert after is not None and after.seq_from == newer.seq_to + 1


def test_a_delta_needs_a_snapshot_to_follow(snapshots: Snapshots) -> None:
    with pytest.raises(NotFound) as caught:
        snapshots.write_delta()
    assert caught.value.code == "no_snapshot"


def test_a_delta_whose_changes_were_pruned_is_refused(
    runtime: Runtime, clock: FixedClock, snapshots: Snapshots, carrier: Member
) -> None:
    report_some(runtime, clock, [carrier])
    snapshots.write_full()
    for number in NUMBERS[:3]:
        clock.advance(1000)
        runtime.registry.report(carrier, NewReport(number, Category.OTHER, clock.now_ms()))
    assert runtime.feed.log.prune(clock.now_ms() + 1) > 0  # all but the newest change go
    with pytest.raises(Gone) as caught:
        snapshots.write_delta()
    assert caught.value.code == "changes_gone"
    assert [s.kind for s in snapshots.drop.sets()] == ["full"]
    _no_temporaries(snapshots)


def test_the_snapshot_read_sees_one_moment_of_the_store(runtime: Runtime, clock: FixedClock, carrier: Member) -> None:
    report_some(runtime, clock, [carrier])
    with consistent_read(runtime.engine) as (conn, head):
        runtime.registry.report(carrier, NewReport(447911555555, Category.VISHING, clock.now_ms()))  # another conn
        assert runtime.feed.log.head() == head + 1
        numbers = np.concatenate([rows[:, 0] for rows in listing_chunks(conn)])
        assert 447911555555 not in numbers and len(numbers) == len(NUMBERS)
    with consistent_read(runtime.engine) as (conn, newer):
        assert newer == head + 1
        assert 447911555555 in np.concatenate([rows[:, 0] for rows in listing_chunks(conn)])


def test_rows_stream_in_chunks(
    runtime: Runtime, clock: FixedClock, snapshots: Snapshots, carrier: Member, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunk boundaries (listings and changes) lose and repeat nothing."""
    monkeypatch.setattr(snapshots_module, "_CHUNK", 3)
    report_some(runtime, clock, [carrier])
    with consistent_read(runtime.engine) as (conn, _head):
        sizes = [len(rows) for rows in listing_chunks(conn)]
    assert sizes == [3, 3, 2]
    full, _new = snapshots.write_full()
    assert read_set(_drop(snapshots), full)[0] == export_csv(runtime)
    for number in range(447911000000, 447911000010):
        runtime.registry.report(carrier, NewReport(number, Category.OTHER, clock.now_ms()))
    delta = snapshots.write_delta()
    assert delta is not None and delta.rows == 10
    seqs = [row["seq"] for row in jsonl_rows(read_set(_drop(snapshots), delta)[1])]
    assert seqs == list(range(full.seq_to + 1, full.seq_to + 11))


def test_a_failed_write_leaves_nothing_behind(
    runtime: Runtime, clock: FixedClock, snapshots: Snapshots, carrier: Member, monkeypatch: pytest.MonkeyPatch
) -> None:
    report_some(runtime, clock, [carrier])
    monkeypatch.setattr(snapshots_module, "_CHUNK", 2)
    calls = 0
    real = snapshots_module.render_listings

    def failing(rows: np.ndarray) -> tuple[bytes, bytes]:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise OSError(28, "No space left on device")
        return real(rows)

    monkeypatch.setattr(snapshots_module, "render_listings", failing)
    with pytest.raises(OSError, match="No space left"):
        snapshots.write_full()
    assert sorted(p.name for p in _drop(snapshots).iterdir()) == [".lock"]
    assert snapshots.drop.sets() == []


def test_retention_keeps_the_newest_full_snapshots_and_their_deltas(
    runtime: Runtime, clock: FixedClock, snapshots: Snapshots, carrier: Member
) -> None:
    snapshots.keep = 2
    made: list[FileSet] = []
    for round_ in range(4):
        clock.advance(DAY_MS)
        runtime.registry.report(carrier, NewReport(NUMBERS[round_], Category.VISHING, clock.now_ms()))
        made.append(snapshots.write_full()[0])
        runtime.registry.report(carrier, NewReport(NUMBERS[round_ + 4], Category.IRSF, clock.now_ms()))
        delta = snapshots.write_delta()
        assert delta is not None
        made.append(delta)
    (_drop(snapshots) / ".tmp-left-by-a-crash").write_bytes(b"partial")
    runtime.registry.report(carrier, NewReport(NUMBERS[0], Category.OTHER, clock.now_ms()))
    last = snapshots.write_delta()
    assert last is not None

    kept = snapshots.drop.sets()
    assert kept == [*made[4:], last]  # full, delta, full, delta, delta
    assert [s.kind for s in kept].count("full") == 2
    on_disk = {p.name for p in _drop(snapshots).iterdir()}
    assert on_disk == {".lock"} | {name for s in kept for name in s.names()}


def test_a_drop_folder_path_that_is_a_file_is_refused(runtime: Runtime, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    writer = Snapshots(runtime.engine, runtime.feed.log, DropFolder(blocker), runtime.clock)
    with pytest.raises(InvalidInput) as caught:
        writer.write_full()
    assert caught.value.code == "invalid_drop_dir" and "not a directory" in caught.value.message
    assert blocker.read_text() == "x"
