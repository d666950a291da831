"""``ringfence hotlists``: on the local database, and against a running server with --url/--key."""

from __future__ import annotations

import csv
import gzip
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result

from ringfence.cli import main
from ringfence.runtime import Runtime
from tests.live import live_server
from tests.support import Keys

Run = Callable[..., Result]


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    for name in ("RINGFENCE_URL", "RINGFENCE_KEY", "RINGFENCE_DEFAULT_REGION", "RINGFENCE_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    url = f"sqlite:///{tmp_path / 'cli.db'}"

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(main, ["--database-url", url, *args], catch_exceptions=False)

    return invoke


def test_create_import_versions_diff_and_check_locally(run: Run, tmp_path: Path) -> None:
    created = run("hotlists", "create", "irsf", "--retain", "--wildcard-last", "2")
    assert created.exit_code == 0, created.output
    assert "retains missing entries" in created.stdout and "last 2 digits" in created.stdout

    week1 = tmp_path / "week1.txt"
    week1.write_text("# IRS test numbers\n+3725521234\n+3725521234\n07700 900123\njunk\n")
    errors_file = tmp_path / "bad.csv"
    first = run("hotlists", "import", "irsf", str(week1), "--region", "GB", "--errors", str(errors_file))
    assert first.exit_code == 1, first.output  # a row was refused
    assert "hotlist irsf version 1" in first.stdout
    assert "added: 4, unchanged: 0, removed: 0, retained: 0, invalid: 1, duplicates: 1, derived: 2" in first.stdout
    assert "line 5: invalid_number" in first.stdout
    with errors_file.open() as bad:
        assert [row["line"] for row in csv.DictReader(bad)] == ["5"]

    week2 = tmp_path / "week2.csv.gz"
    week2.write_bytes(gzip.compress(b"number,source\n+3725521234,vendor-a\n+88216*,gsma\n"))
    second = run("hotlists", "import", "irsf", str(week2), "--json")
    assert second.exit_code == 0, second.output
    answer = orjson.loads(second.stdout)
    assert (answer["version"], answer["added"], answer["retained"], answer["source"]) == (2, 1, 2, "week2.csv.gz")

    versions = run("hotlists", "versions", "irsf", "--json")
    assert [v["version"] for v in orjson.loads(versions.stdout)] == [1, 2]
    assert "week1.txt" in run("hotlists", "versions", "irsf").stdout

    diff = run("hotlists", "diff", "irsf", "2")
    assert diff.exit_code == 0, diff.output
    assert "1 added, 0 removed, 2 retained" in diff.stdout
    assert "+ +88216*  gsma" in diff.stdout and "= +447700900123" in diff.stdout
    against = orjson.loads(run("hotlists", "diff", "irsf", "2", "--against", "0", "--json").stdout)
    assert against["counts"]["added"] == 5

    checked = run(
        "--region", "GB", "hotlists", "check", "+3725521299", "07700 900123", "+12015550123", "junk", "--json"
    )
    results = orjson.loads(checked.stdout)
    assert [r.get("hotlisted") for r in results] == [True, True, False, None]
    assert results[0]["match"]["pattern"] == "+37255212??" and results[1]["match"]["retained"] is True
    table = run("hotlists", "check", "+3725521299")
    assert "HOTLISTED" in table.stdout and "+37255212??" in table.stdout

    listed = run("hotlists", "list")
    assert "irsf" in listed.stdout
    assert [v["version"] for v in orjson.loads(run("hotlists", "events", "--since", "1", "--json").stdout)] == [2]


def test_a_file_with_no_valid_numbers_is_refused_and_the_version_stays(run: Run, tmp_path: Path) -> None:
    assert run("hotlists", "create", "irsf").exit_code == 0
    good = tmp_path / "good.txt"
    good.write_text("+3725521234\n")
    assert run("hotlists", "import", "irsf", str(good)).exit_code == 0
    bad = tmp_path / "bad.txt"
    bad.write_text("junk\nmore junk\n")
    refused = run("hotlists", "import", "irsf", str(bad))
    assert refused.exit_code == 2
    assert refused.stderr.startswith("error: the file has no valid numbers") and "Traceback" not in refused.output
    assert [v["version"] for v in orjson.loads(run("hotlists", "versions", "irsf", "--json").stdout)] == [1]


def test_options_and_mistakes(run: Run, tmp_path: Path) -> None:
    assert run("hotlists", "create", "feed", "--url", "https://lists.example/x.txt", "--every", "60").exit_code == 0
    changed = run("hotlists", "set", "feed", "--retain", "--url", "", "--folder", str(tmp_path), "--json")
    assert changed.exit_code == 0, changed.output
    view = orjson.loads(changed.stdout)
    assert view["retain_missing"] is True and view["sync"] == {"url": None, "folder": str(tmp_path), "every_s": 60}
    assert run("hotlists", "create", "feed").exit_code == 5  # exists
    assert run("hotlists", "create", "Bad Name").exit_code == 2
    assert run("hotlists", "versions", "nope").exit_code == 4
    assert run("hotlists", "diff", "feed", "1").exit_code == 4
    source = tmp_path / "x.txt"
    source.write_text("+3725521234\n")
    assert run("hotlists", "import", "feed", str(source), "--region", "XX").exit_code == 2
    assert run("hotlists", "import", "feed", str(source), "--admin", "nobody").exit_code == 4


@pytest.fixture
def served(runtime: Runtime, keys: Keys, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name in ("RINGFENCE_URL", "RINGFENCE_KEY", "RINGFENCE_DATABASE_URL", "RINGFENCE_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    with live_server(runtime, daemons=False) as url:
        yield url


def test_the_same_commands_against_a_server(served: str, keys: Keys, tmp_path: Path) -> None:
    def remote(key: str, *args: str) -> Result:
        return CliRunner().invoke(main, ["--url", served, "--key", key, *args])

    refused = remote(keys.reader, "hotlists", "create", "irsf")
    assert refused.exit_code == 3 and "admin" in refused.stderr
    assert remote(keys.admin, "hotlists", "create", "irsf", "--wildcard-last", "2").exit_code == 0
    source = tmp_path / "list.csv.gz"
    source.write_bytes(gzip.compress(b"number,country\n07700 900123,GB\n+3725521234,\njunk,\n"))
    made = remote(keys.admin, "hotlists", "import", "irsf", str(source), "--json")
    assert made.exit_code == 1, made.output
    answer = orjson.loads(made.stdout)
    assert (answer["source"], answer["added"], answer["invalid"], answer["derived"]) == ("list.csv.gz", 4, 1, 2)
    assert answer["errors"][0]["line"] == 4
    bad = tmp_path / "bad.txt"
    bad.write_text("junk\n")
    nothing = remote(keys.admin, "hotlists", "import", "irsf", str(bad))
    assert nothing.exit_code == 2 and "no valid numbers" in nothing.stderr

    assert [
        v["version"] for v in orjson.loads(remote(keys.reader, "hotlists", "versions", "irsf", "--json").stdout)
    ] == [1]
    diff = orjson.loads(remote(keys.reader, "hotlists", "diff", "irsf", "1", "--json").stdout)
    assert diff["counts"] == {"added": 4, "removed": 0, "retained": 0}
    checked = orjson.loads(remote(keys.reader, "hotlists", "check", "+3725521200", "+12015550123", "--json").stdout)
    assert [r["hotlisted"] for r in checked] == [True, False]
    changed = remote(keys.admin, "hotlists", "set", "irsf", "--retain", "--json")
    assert orjson.loads(changed.stdout)["retain_missing"] is True
    assert "irsf" in remote(keys.reader, "hotlists", "list").stdout
    assert len(orjson.loads(remote(keys.reader, "hotlists", "events", "--json").stdout)) == 1
