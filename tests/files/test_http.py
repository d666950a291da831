"""GET /v1/files and /v1/files/{name}: list the manifests, download a file, and nothing outside the drop folder."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import httpx
import orjson
import pytest

from ringfence.clock import FixedClock
from ringfence.files.manifest import FileSet
from ringfence.files.snapshots import Snapshots
from ringfence.registry.models import Category, Member, NewReport
from ringfence.runtime import Runtime
from tests.files.helpers import report_some
from tests.support import Keys, bearer


@pytest.fixture
def written(
    runtime: Runtime, clock: FixedClock, snapshots: Snapshots, keys: Keys, carrier: Member
) -> tuple[FileSet, FileSet]:
    report_some(runtime, clock, [carrier])
    full, _new = snapshots.write_full()
    runtime.registry.report(carrier, NewReport(447911000001, Category.IRSF, clock.now_ms()))
    delta = snapshots.write_delta()
    assert delta is not None
    return full, delta


async def test_the_sets_are_listed_newest_first(
    client: httpx.AsyncClient, keys: Keys, written: tuple[FileSet, FileSet]
) -> None:
    full, delta = written
    answer = await client.get("/v1/files", headers=bearer(keys.reader))
    assert answer.status_code == 200, answer.text
    sets = answer.json()["sets"]
    assert [s["name"] for s in sets] == [delta.stem, full.stem]
    listed = sets[1]
    assert listed["kind"] == "full" and listed["seq_to"] == full.seq_to and listed["rows"] == full.rows
    assert [f["url"] for f in listed["files"]] == [f"/v1/files/{f.name}" for f in full.files]
    assert listed["manifest_url"] == f"/v1/files/{full.manifest}"
    assert [f["sha256"] for f in listed["files"]] == [f.sha256 for f in full.files]

    only_full = await client.get("/v1/files", params={"kind": "full"}, headers=bearer(keys.reader))
    assert [s["name"] for s in only_full.json()["sets"]] == [full.stem]
    bad = await client.get("/v1/files", params={"kind": "weekly"}, headers=bearer(keys.reader))
    assert bad.status_code == 422


async def test_an_empty_drop_folder_lists_no_sets(client: httpx.AsyncClient, keys: Keys) -> None:
    answer = await client.get("/v1/files", headers=bearer(keys.reader))
    assert answer.status_code == 200 and answer.json() == {"sets": []}


async def test_files_need_a_key(client: httpx.AsyncClient, written: tuple[FileSet, FileSet]) -> None:
    full, _delta = written
    for path in ("/v1/files", f"/v1/files/{full.files[0].name}"):
        answer = await client.get(path)
        assert answer.status_code == 401 and answer.json()["error"]["code"] == "missing_key"
        wrong = await client.get(path, headers=bearer("rf_aaaaaaaa_wrong"))
        assert wrong.status_code == 401


async def test_every_file_downloads_with_its_checksum(
    client: httpx.AsyncClient, keys: Keys, written: tuple[FileSet, FileSet], snapshots: Snapshots
) -> None:
    for file_set in written:
        for entry in file_set.files:
            answer = await client.get(f"/v1/files/{entry.name}", headers=bearer(keys.reader))
            assert answer.status_code == 200
            assert hashlib.sha256(answer.content).hexdigest() == entry.sha256
            assert answer.content == (snapshots.drop.root / entry.name).read_bytes()
            assert answer.headers["content-type"] == "application/gzip"
            assert answer.headers["content-length"] == str(entry.bytes)
            assert answer.headers["etag"] == f'"{entry.sha256}"'
            assert entry.name in answer.headers["content-disposition"]
            assert "content-encoding" not in answer.headers  # the bytes are the file, not decoded on the way

        manifest = await client.get(f"/v1/files/{file_set.manifest}", headers=bearer(keys.reporter))
        assert manifest.status_code == 200 and manifest.headers["content-type"] == "application/json"
        assert orjson.loads(manifest.content) == file_set.to_dict()
        assert manifest.headers["etag"] == f'"{hashlib.sha256(manifest.content).hexdigest()}"'


async def test_conditional_and_partial_downloads(
    client: httpx.AsyncClient, keys: Keys, written: tuple[FileSet, FileSet], snapshots: Snapshots
) -> None:
    entry = written[0].files[1]
    path = f"/v1/files/{entry.name}"
    same = await client.get(path, headers={**bearer(keys.reader), "If-None-Match": f'"{entry.sha256}"'})
    assert same.status_code == 304 and same.content == b""
    other = await client.get(path, headers={**bearer(keys.reader), "If-None-Match": '"something-else"'})
    assert other.status_code == 200
    part = await client.get(path, headers={**bearer(keys.reader), "Range": "bytes=10-"})
    assert part.status_code == 206
    assert part.content == (snapshots.drop.root / entry.name).read_bytes()[10:]


@pytest.mark.parametrize(
    "path",
    [
        "/v1/files/full-000000999999.csv.gz",
        "/v1/files/..",
        "/v1/files/..%2F..%2Fetc%2Fpasswd",
        "/v1/files/%2e%2e%2fringfence.db",
        "/v1/files/%2Fetc%2Fpasswd",
        "/v1/files/.lock",
        "/v1/files/ringfence.db",
        "/v1/files/..%5Cringfence.db",
    ],
)
async def test_unknown_names_and_paths_are_not_found(
    client: httpx.AsyncClient, keys: Keys, written: tuple[FileSet, FileSet], path: str
) -> None:
    answer = await client.get(path, headers=bearer(keys.reader))
    assert answer.status_code == 404
    error = answer.json()["error"]
    assert error["code"] in ("file_not_found", "not_found")
    assert b"root:" not in answer.content and b"SQLite" not in answer.content


async def test_unknown_name_says_which(client: httpx.AsyncClient, keys: Keys) -> None:
    answer = await client.get("/v1/files/full-000000000042.csv.gz", headers=bearer(keys.reader))
    assert answer.status_code == 404
    assert answer.json()["error"] == {
        "code": "file_not_found",
        "message": "there is no file 'full-000000000042.csv.gz' in the drop folder",
        "details": {"name": "full-000000000042.csv.gz"},
    }


async def test_a_listed_name_that_became_a_symbolic_link_is_refused(
    client: httpx.AsyncClient, keys: Keys, written: tuple[FileSet, FileSet], snapshots: Snapshots, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("outside the drop folder")
    entry = written[0].files[0]
    target = snapshots.drop.root / entry.name
    target.unlink()
    os.symlink(secret, target)
    answer = await client.get(f"/v1/files/{entry.name}", headers=bearer(keys.reader))
    assert answer.status_code == 404 and b"outside" not in answer.content
