"""``ringfence reassigned import``: a feed applied to the local database, and uploaded to a running server."""

from __future__ import annotations

import csv
import gzip
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import pytest
from click.testing import CliRunner, Result

from ringfence.cli import main
from tests.cli.test_remote import Server, _free_port, _start, _stop

Run = Callable[..., Result]
NOW = datetime.now(UTC)
TWO_DAYS_AGO = (NOW - timedelta(days=2)).isoformat()
AN_HOUR_AGO = (NOW - timedelta(hours=1)).isoformat()
YESTERDAY = (NOW - timedelta(days=1)).date()  # as a bare date: 00:00 UTC, after TWO_DAYS_AGO, before AN_HOUR_AGO


def feed_csv(area: str = "201") -> str:
    us = YESTERDAY.strftime("%m/%d/%Y")
    return (
        "TN,Permanent_Disconnect_Date,Type\n"
        f"{area}5550101,{us},\n"  # reported two days ago: removed
        f"{area}5550102,{us},reassigned\n"  # reported an hour ago: stands
        f"{area}5550104,{YESTERDAY.isoformat()},port\n"  # reported two days ago: flagged ported
        f"2015550199,{us},moved\n"  # line 5: unknown type
        "12345,2024-01-01,\n"  # line 6: not a number
    )


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    for name in ("RINGFENCE_URL", "RINGFENCE_KEY", "RINGFENCE_DEFAULT_REGION", "RINGFENCE_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    url = f"sqlite:///{tmp_path / 'cli.db'}"

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(main, ["--database-url", url, *args], catch_exceptions=False)

    return invoke


@pytest.fixture
def listed(run: Run) -> None:
    for name, role in (("boss", "admin"), ("acme", "reporter")):
        assert run("members", "add", name, "--role", role).exit_code == 0
    for number, when in (("+12015550101", TWO_DAYS_AGO), ("+12015550102", AN_HOUR_AGO), ("+12015550104", TWO_DAYS_AGO)):
        made = run("report", number, "--category", "irsf", "--occurred-at", when, "--member", "acme")
        assert made.exit_code == 0, made.output


def listed_numbers(run: Run) -> dict[str, bool]:
    checked = run("check", "+12015550101", "+12015550102", "+12015550104", "--json")
    return {answer["number"]: answer["listed"] for answer in orjson.loads(checked.stdout)}


def test_import_applies_the_feed_and_lists_bad_rows(run: Run, listed: None, tmp_path: Path) -> None:
    source = tmp_path / "rnd.csv"
    source.write_text(feed_csv())
    errors_file = tmp_path / "bad.csv"
    result = run("reassigned", "import", str(source), "--region", "US", "--admin", "boss", "--errors", str(errors_file))
    assert result.exit_code == 1, result.output  # some rows were rejected
    assert "rows: 3, listed: 3, removed: 1, updated: 0, ported: 1, rejected: 2" in result.stdout
    assert "line 5: unknown_type" in result.stdout and "line 6: invalid_number" in result.stdout
    with errors_file.open() as bad:
        assert [row["line"] for row in csv.DictReader(bad)] == ["5", "6"]
    assert listed_numbers(run) == {"+12015550101": False, "+12015550102": True, "+12015550104": True}


def test_import_reads_gzip_and_answers_json(run: Run, listed: None, tmp_path: Path) -> None:
    source = tmp_path / "rnd.csv.gz"
    source.write_bytes(gzip.compress(feed_csv().encode()))
    result = run("--region", "US", "reassigned", "import", str(source), "--admin", "boss", "--json")
    answer = orjson.loads(result.stdout)
    assert (answer["removed"], answer["ported"], answer["rejected"]) == (1, 1, 2)


def test_import_needs_an_admin(run: Run, listed: None, tmp_path: Path) -> None:
    source = tmp_path / "rnd.csv"
    source.write_text(feed_csv())
    missing = run("reassigned", "import", str(source), "--region", "US")
    assert missing.exit_code == 2 and "--admin" in missing.stderr
    refused = run("reassigned", "import", str(source), "--region", "US", "--admin", "acme")
    assert refused.exit_code == 3 and "admin" in refused.stderr
    assert listed_numbers(run)["+12015550101"] is True


def test_an_unusable_header_is_one_clear_error(run: Run, listed: None, tmp_path: Path) -> None:
    source = tmp_path / "rnd.csv"
    source.write_text("number,tpye\n2015550101,port\n")
    result = run("reassigned", "import", str(source), "--admin", "boss")
    assert result.exit_code == 2 and result.stderr.startswith("error: unknown column")
    assert "Traceback" not in result.output
    bad_region = run("reassigned", "import", str(source), "--admin", "boss", "--region", "XX")
    assert bad_region.exit_code == 2 and "XX" in bad_region.stderr


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Server]:
    server = _start(tmp_path, _free_port(), demo=True)
    try:
        yield server
    finally:
        _stop(server)


def test_import_against_a_server(served: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RINGFENCE_URL", "RINGFENCE_KEY", "RINGFENCE_DATABASE_URL", "RINGFENCE_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    carrier = {"Authorization": f"Bearer {served.keys['demo-carrier']}"}
    for number, when in (("+13055550101", TWO_DAYS_AGO), ("+13055550102", AN_HOUR_AGO), ("+13055550104", TWO_DAYS_AGO)):
        body = {"number": number, "category": "irsf", "occurred_at": when}
        assert httpx.post(f"{served.url}/v1/reports", json=body, headers=carrier).status_code == 201
    source = tmp_path / "rnd.csv.gz"
    source.write_bytes(gzip.compress(feed_csv("305").encode()))  # the demo lists 201 and 212 555-01xx

    def remote(key: str) -> Result:
        args = ["--url", served.url, "--key", served.keys[key], "reassigned", "import", str(source), "--region", "US"]
        return CliRunner().invoke(main, [*args, "--json"])

    refused = remote("demo-carrier")
    assert refused.exit_code == 3 and "admin" in refused.stderr
    applied = remote("demo-admin")
    assert applied.exit_code == 1, applied.output
    answer = orjson.loads(applied.stdout)
    assert (answer["rows"], answer["removed"], answer["ported"], answer["rejected"]) == (3, 1, 1, 2)
    gone = httpx.get(f"{served.url}/v1/numbers/+13055550101", headers=carrier).json()
    assert gone["listed"] is False
