"""The ``ringfence`` command against a temporary SQLite database (click's CliRunner, in process)."""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import orjson
import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner, Result

from ringfence.cli import main

# The CLI runs on the system clock: reports must be recent to be listed (older ones have decayed).
_NOW = datetime.now(UTC).replace(microsecond=0)
RECENT = (_NOW - timedelta(hours=2)).isoformat().replace("+00:00", "Z")
LATER = (_NOW - timedelta(hours=1)).isoformat().replace("+00:00", "Z")

Run = Callable[..., Result]


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    for name in ("RINGFENCE_URL", "RINGFENCE_KEY", "RINGFENCE_DEFAULT_REGION", "RINGFENCE_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    url = f"sqlite:///{tmp_path / 'cli.db'}"

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(main, ["--database-url", url, *args], catch_exceptions=False)

    return invoke


@pytest.fixture
def reporter(run: Run) -> str:
    result = run("members", "add", "acme", "--role", "reporter")
    assert result.exit_code == 0, result.output
    return "acme"


def no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output
    assert "Traceback" not in result.stderr


def test_members_add_prints_the_key_once(run: Run) -> None:
    result = run("members", "add", "acme", "--role", "reporter")
    assert result.exit_code == 0
    assert re.search(r"rf_[a-z2-7]{8}_\S+", result.stdout)
    assert "not be shown again" in result.stdout or "cannot be shown again" in result.stdout
    listed = run("members", "list", "--json")
    assert [(m["name"], m["role"]) for m in orjson.loads(listed.stdout)] == [("acme", "reporter")]
    assert "acme" in run("members", "list").stdout


def test_duplicate_member_is_a_clear_error(run: Run, reporter: str) -> None:
    result = run("members", "add", reporter, "--role", "reader")
    assert result.exit_code == 5
    assert result.stderr.startswith("error: ") and "exists already" in result.stderr
    no_traceback(result)


def test_unknown_role(run: Run) -> None:
    result = run("members", "add", "acme", "--role", "boss")
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: unknown role 'boss'; expected one of: reader, reporter, admin"
    no_traceback(result)


def test_keys_create_list_revoke(run: Run, reporter: str) -> None:
    created = run("keys", "create", reporter)
    assert created.exit_code == 0
    key_id = re.search(r"rf_([a-z2-7]{8})_", created.stdout).group(1)  # type: ignore[union-attr]
    keys = orjson.loads(run("keys", "list", reporter, "--json").stdout)
    assert len(keys) == 2 and all(k["revoked_at"] is None for k in keys)
    revoked = run("keys", "revoke", key_id)
    assert revoked.exit_code == 0 and key_id in revoked.stdout
    keys = {k["id"]: k for k in orjson.loads(run("keys", "list", "--json").stdout)}
    assert keys[key_id]["revoked_at"] is not None
    missing = run("keys", "revoke", "zzzzzzzz")
    assert missing.exit_code == 4 and missing.stderr.startswith("error: ")


def test_report_then_check(run: Run, reporter: str) -> None:
    args = ("report", "+442079460018", "-c", "vishing", "--member", reporter, "--report-id", "r1", "--occurred-at")
    reported = run(*args, RECENT)
    assert reported.exit_code == 0, reported.output
    assert "reported +442079460018 as vishing" in reported.stdout
    again = run(*args, RECENT)
    assert again.exit_code == 0 and "already reported" in again.stdout

    answer = orjson.loads(run("check", "+442079460018", "+442079460019", "--json").stdout)
    assert answer[0]["listed"] is True
    assert answer[0]["listing"]["report_count"] == 1 and answer[0]["listing"]["reporter_count"] == 1
    assert answer[0]["listing"]["categories"] == ["vishing"]
    assert answer[1]["listed"] is False

    conflict = run(*args, LATER)
    assert conflict.exit_code == 5 and "report_id 'r1' was already used" in conflict.stderr

    table = run("check", "+442079460018")
    assert table.exit_code == 0 and "LISTED" in table.stdout and "vishing" in table.stdout

    withdrawn = run("withdraw", "r1", "--member", reporter, "--json")
    assert withdrawn.exit_code == 0
    assert orjson.loads(withdrawn.stdout)["listing"]["listed"] is False


def test_national_numbers_need_a_region(run: Run, reporter: str) -> None:
    run("report", "+442079460018", "--category", "irsf", "--member", reporter)
    assert run("check", "020 7946 0018").exit_code == 2
    answer = orjson.loads(run("--region", "GB", "check", "020 7946 0018", "--json").stdout)
    assert answer[0]["listed"] is True
    bad_region = run("--region", "XX", "check", "020 7946 0018")
    assert bad_region.exit_code == 2 and "--region" in bad_region.stderr


def test_check_reports_bad_numbers_and_answers_the_rest(run: Run) -> None:
    result = run("check", "+442079460018", "not-a-number", "--json")
    assert result.exit_code == 2
    assert "error: 'not-a-number' is not a usable phone number" in result.stderr
    answers = orjson.loads(result.stdout)
    assert answers[0]["number"] == "+442079460018"
    assert answers[1]["input"] == "not-a-number" and answers[1]["error"]["code"] == "invalid_number"
    no_traceback(result)


def test_report_errors(run: Run, reporter: str) -> None:
    unknown = run("report", "+442079460018", "--category", "spam", "--member", reporter)
    assert unknown.exit_code == 2 and unknown.stderr.startswith("error: unknown category 'spam'")
    bad = run("report", "12ab", "--category", "irsf", "--member", reporter)
    assert bad.exit_code == 2 and "'12ab' is not a usable phone number" in bad.stderr
    nobody = run("report", "+442079460018", "--category", "irsf", "--member", "ghost")
    assert nobody.exit_code == 4 and "ghost" in nobody.stderr
    no_member = run("report", "+442079460018", "--category", "irsf")
    assert no_member.exit_code == 2 and "--member" in no_member.stderr
    for result in (unknown, bad, nobody, no_member):
        no_traceback(result)


def test_readers_cannot_report(run: Run) -> None:
    run("members", "add", "callcentre", "--role", "reader")
    result = run("report", "+442079460018", "--category", "irsf", "--member", "callcentre")
    assert result.exit_code == 3 and result.stderr.startswith("error: ")


def test_import_mixed_file(run: Run, reporter: str, tmp_path: Path) -> None:
    path = tmp_path / "reports.csv"
    path.write_text(
        "number,category,note\n"
        "+442079460018,vishing,ok\n"
        "+442079460019,irsf,ok\n"
        "\n"
        "junk,irsf,bad number\n"
        "+442079460020,spam,bad category\n"
        "+442079460021,irsf\n"
        "+442079460022,wangiri,ok\n"
    )
    errors_file = tmp_path / "errors.csv"
    result = run("import", str(path), "--member", reporter, "--errors", str(errors_file))
    assert result.exit_code == 1
    assert "accepted: 3, duplicates: 0, rejected: 3" in result.stdout
    assert "line 5: invalid_number: " in result.stdout
    assert "line 6: unknown_category: " in result.stdout
    assert "line 7: wrong_field_count: " in result.stdout
    written = list(csv.DictReader(io.StringIO(errors_file.read_text())))
    assert [(r["line"], r["code"]) for r in written] == [
        ("5", "invalid_number"),
        ("6", "unknown_category"),
        ("7", "wrong_field_count"),
    ]
    answer = orjson.loads(run("check", "+442079460022", "--json").stdout)
    assert answer[0]["listed"] is True


def test_import_gzip_jsonl_all_good(run: Run, reporter: str, tmp_path: Path) -> None:
    path = tmp_path / "reports.data"
    path.write_bytes(gzip.compress(b'{"number": "+442079460018", "category": "irsf"}\n'))
    result = run("import", str(path), "--member", reporter, "--json")
    assert result.exit_code == 0
    assert orjson.loads(result.stdout) == {"accepted": 1, "duplicates": 0, "rejected": 0, "errors": []}


def test_import_caps_the_error_listing(run: Run, reporter: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("number,category\n" + "x,irsf\n" * 60)
    result = run("import", str(path), "--member", reporter)
    assert result.exit_code == 1
    assert result.stdout.count("invalid_number") == 50
    assert "10 more" in result.stdout


def test_import_unknown_column(run: Run, reporter: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("number,category,reporter\n+442079460018,irsf,me\n")
    result = run("import", str(path), "--member", reporter)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: unknown column(s) in the header: 'reporter'")
    no_traceback(result)


def test_export(run: Run, reporter: str, tmp_path: Path) -> None:
    for number in ("+442079460018", "+442079460019"):
        run("report", number, "--category", "irsf", "--member", reporter)
    result = run("export")
    assert result.exit_code == 0
    records = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["number"] for r in records] == ["+442079460018", "+442079460019"]
    assert records[0]["report_count"] == "1" and records[0]["categories"] == "irsf"
    assert reporter not in result.stdout
    out = tmp_path / "listings.jsonl"
    assert run("export", "--format", "jsonl", "-o", str(out)).exit_code == 0
    assert [orjson.loads(line)["number"] for line in out.read_text().splitlines()] == ["+442079460018", "+442079460019"]


def test_settings_and_migrate(run: Run) -> None:
    shown = run("settings")
    assert shown.exit_code == 0 and "RINGFENCE_DATABASE_URL" in shown.stdout
    assert run("settings", "--markdown").stdout.startswith("# Settings")
    migrated = run("migrate")
    heads = ScriptDirectory(str(resources.files("ringfence.store") / "migrations")).get_heads()
    assert migrated.exit_code == 0 and f"schema at revision {', '.join(sorted(heads))}" in migrated.stdout


def test_usage_errors_keep_exit_code_2(run: Run) -> None:
    assert run("report", "+442079460018").exit_code == 2  # --category missing
    assert run("export", "--format", "xml").exit_code == 2


def test_bad_setting_in_environment(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RINGFENCE_PORT", "eighty")
    result = run("settings")
    assert result.exit_code == 2 and result.stderr.startswith("error: RINGFENCE_PORT='eighty' is not valid")


def test_remote_connection_refused_names_the_url(run: Run) -> None:
    result = run("--url", "http://127.0.0.1:9", "--key", "rf_x_y", "check", "+442079460018")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot connect to http://127.0.0.1:9")
    no_traceback(result)


def test_changes_pages_and_filters_the_feed(run: Run) -> None:
    assert run("members", "add", "feeder", "--role", "reporter").exit_code == 0
    for number in ("+442079460018", "+33142685300", "+447700900123"):
        assert run("report", number, "--category", "vishing", "--member", "feeder").exit_code == 0
    everything = run("changes")
    assert everything.exit_code == 0
    assert [line.split()[0] for line in everything.stdout.splitlines()] == ["1", "2", "3"]
    assert "listed" in everything.stdout and "+33142685300" in everything.stdout
    french = run("changes", "--country", "FR", "--json")
    assert [orjson.loads(line)["number"] for line in french.stdout.splitlines()] == ["+33142685300"]
    later = run("changes", "--since", "2", "--json")
    assert [orjson.loads(line)["seq"] for line in later.stdout.splitlines()] == [3]
    bad = run("changes", "--prefix", "+44x")
    assert bad.exit_code == 2 and "prefix" in bad.stderr
