"""``ringfence never-list`` and ``ringfence lists`` on the local database, and against a server with --url/--key."""

from __future__ import annotations

from collections.abc import Callable
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


def _ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output + result.stderr
    return result


def _no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output and "Traceback" not in result.stderr


def test_the_never_list_commands_on_the_local_database(run: Run) -> None:
    _ok(run("members", "add", "carrier-a", "--role", "reporter"))
    added = _ok(run("never-list", "add", "+44 800*", "--kind", "service", "--note", "UK freephone"))
    assert "added +44800* (service), entry 1" in added.stdout
    _ok(run("--region", "GB", "never-list", "add", "020 7946 0000", "--kind", "emergency"))
    own = orjson.loads(
        _ok(run("never-list", "add", "+442079460001", "--kind", "member_own", "--member", "carrier-a", "--json")).stdout
    )
    assert own["entry"]["source"] == "member_own" and own["entry"]["member_id"] == 1 and own["retired"] == []
    entries = orjson.loads(_ok(run("never-list", "list", "--json")).stdout)
    assert [(e["id"], e["pattern"], e["kind"]) for e in entries] == [
        (1, "+44800*", "service"),
        (2, "+442079460000", "emergency"),
        (3, "+442079460001", "member_own"),
    ]
    table = _ok(run("never-list", "list")).stdout
    assert "+44800*" in table and "UK freephone" in table
    assert "removed +44800* (service), entry 1" in _ok(run("never-list", "remove", "1")).stdout
    assert [e["id"] for e in orjson.loads(_ok(run("never-list", "list", "--json")).stdout)] == [2, 3]


def test_never_list_mistakes_are_clear_errors(run: Run) -> None:
    cases = [
        (("never-list", "add", "+44*", "--kind", "service"), 2, "is not a never-list pattern"),
        (("never-list", "add", "+442079460000", "--kind", "vip"), 2, "unknown never-list kind 'vip'"),
        (("never-list", "add", "junk", "--kind", "service"), 2, "is not a usable phone number"),
        (("never-list", "remove", "9"), 4, "no never-list entry 9"),
        (("never-list", "add", "+442079460000", "--kind", "member_own"), 2, "--member NAME is required"),
        (("never-list", "remove", "first"), 2, "is not an entry id"),
    ]
    for args, code, message in cases:
        result = run(*args)
        assert result.exit_code == code, (args, result.output)
        assert message in result.stderr, result.stderr
        _no_traceback(result)
    _ok(run("never-list", "add", "+442079460000", "--kind", "service"))
    twice = run("never-list", "add", "+442079460000", "--kind", "service")
    assert twice.exit_code == 5 and "on the never-list already" in twice.stderr


def test_the_list_commands_on_the_local_database(run: Run) -> None:
    _ok(run("members", "add", "contact-centre", "--role", "reader"))
    _ok(run("members", "add", "bank-b", "--role", "reporter"))
    assert (
        "+442079460000 is on the deny list"
        in _ok(
            run("lists", "set", "+442079460000", "--list", "deny", "--note", "scam", "--member", "contact-centre")
        ).stdout
    )
    _ok(run("--region", "GB", "lists", "set", "0800 123 4567", "--list", "allow", "--member", "contact-centre"))
    shown = orjson.loads(_ok(run("lists", "show", "--member", "contact-centre", "--json")).stdout)
    assert [(e["number"], e["list"], e["note"]) for e in shown] == [
        ("+442079460000", "deny", "scam"),
        ("+448001234567", "allow", None),
    ]
    only = orjson.loads(_ok(run("lists", "show", "--member", "contact-centre", "--list", "allow", "--json")).stdout)
    assert [e["number"] for e in only] == ["+448001234567"]
    assert orjson.loads(_ok(run("lists", "show", "--member", "bank-b", "--json")).stdout) == []
    assert "scam" in _ok(run("lists", "show", "--member", "contact-centre")).stdout
    removed = _ok(run("lists", "remove", "+442079460000", "--member", "contact-centre"))
    assert "took +442079460000 off the deny list" in removed.stdout
    again = run("lists", "remove", "+442079460000", "--member", "contact-centre")
    assert again.exit_code == 4 and "is on neither of your lists" in again.stderr
    assert run("lists", "show").exit_code == 2  # --member is required locally
    nobody = run("lists", "show", "--member", "nobody")
    assert nobody.exit_code == 4 and "no member 'nobody'" in nobody.stderr
    grey = run("lists", "set", "+442079460000", "--list", "grey", "--member", "bank-b")
    assert grey.exit_code == 2 and "unknown list 'grey'" in grey.stderr
    _no_traceback(grey)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_commands_against_a_server(runtime: Runtime, keys: Keys, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RINGFENCE_URL", "RINGFENCE_KEY", "RINGFENCE_DEFAULT_REGION", "RINGFENCE_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with live_server(runtime, daemons=False) as base:

        def remote(*args: str, key: str = keys.admin) -> Result:
            return CliRunner().invoke(main, ["--url", base, "--key", key, *args], catch_exceptions=False)

        added = orjson.loads(_ok(remote("never-list", "add", "+44800*", "--kind", "service", "--json")).stdout)
        assert added["entry"]["pattern"] == "+44800*"
        own = _ok(remote("never-list", "add", "+442079460001", "--kind", "member_own", key=keys.reporter))
        assert "added +442079460001 (member_own)" in own.stdout
        seen = orjson.loads(_ok(remote("never-list", "list", "--json", key=keys.reader)).stdout)
        assert [e["pattern"] for e in seen] == ["+44800*", "+442079460001"] and "member_id" not in seen[1]
        refused = remote("never-list", "add", "+44900*", "--kind", "service", key=keys.reporter)
        assert refused.exit_code == 3 and "needs admin" in refused.stderr
        assert "removed +442079460001" in _ok(remote("never-list", "remove", "+442079460001", key=keys.reporter)).stdout
        assert "removed +44800*" in _ok(remote("never-list", "remove", str(added["entry"]["id"]))).stdout
        _ok(remote("lists", "set", "+442079460000", "--list", "allow", key=keys.reader))
        mine = orjson.loads(_ok(remote("lists", "show", "--json", key=keys.reader)).stdout)
        assert [(e["number"], e["list"]) for e in mine] == [("+442079460000", "allow")]
        assert orjson.loads(_ok(remote("lists", "show", "--json", key=keys.reporter)).stdout) == []
        assert (
            "took +442079460000 off the allow list"
            in _ok(remote("lists", "remove", "+442079460000", key=keys.reader)).stdout
        )
