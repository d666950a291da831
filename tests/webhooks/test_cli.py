"""``ringfence webhooks`` on the local database, and against a server with --url/--key."""

from __future__ import annotations

import re
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
URL = "https://hooks.example.net/ringfence"


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


def test_the_webhook_commands_on_the_local_database(run: Run) -> None:
    _ok(run("members", "add", "contact-centre", "--role", "reader"))
    added = _ok(run("webhooks", "add", URL, "--category", "irsf", "--country", "GB", "--member", "contact-centre"))
    secret = re.search(r"secret: (whsec_\S+)", added.stdout)
    assert secret and "shown only now" in added.stdout
    hook = re.search(r"webhook:\s+(wh_\w+)", added.stdout)
    assert hook
    hook_id = hook.group(1)
    listed = orjson.loads(_ok(run("webhooks", "list", "--json")).stdout)
    assert [(h["id"], h["member"], h["filter"]["categories"]) for h in listed] == [
        (hook_id, "contact-centre", ["irsf"])
    ]
    assert secret.group(1) not in run("webhooks", "list", "--json").stdout
    assert hook_id in _ok(run("webhooks", "list")).stdout
    shown = _ok(run("webhooks", "show", hook_id)).stdout
    assert "irsf; GB" in shown and "enabled" in shown
    assert "disabled webhook" in _ok(run("webhooks", "disable", hook_id)).stdout
    assert "DISABLED" in _ok(run("webhooks", "show", hook_id)).stdout
    assert "disabled by the operator" in _ok(run("webhooks", "show", hook_id)).stdout
    assert run("webhooks", "test", hook_id).exit_code == 5  # disabled: a conflict
    assert "enabled webhook" in _ok(run("webhooks", "enable", hook_id)).stdout
    assert "queued ping delivery dl_" in _ok(run("webhooks", "test", hook_id)).stdout
    log = orjson.loads(_ok(run("webhooks", "deliveries", hook_id, "--json")).stdout)
    assert [(d["kind"], d["status"]) for d in log["deliveries"]] == [("ping", "pending")]
    assert "ping" in _ok(run("webhooks", "deliveries", hook_id)).stdout
    rotated = _ok(run("webhooks", "rotate-secret", hook_id, "--grace-s", "0")).stdout
    assert "new secret" in rotated and secret.group(1) not in rotated and "no longer signs" in rotated
    assert "removed webhook" in _ok(run("webhooks", "remove", hook_id)).stdout
    assert orjson.loads(_ok(run("webhooks", "list", "--json")).stdout) == []


def test_mistakes_are_one_line_errors(run: Run) -> None:
    _ok(run("members", "add", "contact-centre", "--role", "reader"))
    bad = run("webhooks", "add", "http://hooks.example.net/x", "--member", "contact-centre")
    assert bad.exit_code == 2 and bad.stderr.startswith("error: url must use https://")
    unknown = run("webhooks", "add", URL, "--category", "bogus", "--member", "contact-centre")
    assert unknown.exit_code == 2 and "unknown category" in unknown.stderr
    assert run("webhooks", "add", URL).exit_code == 2  # --member is needed locally
    missing = run("webhooks", "show", "wh_nothere")
    assert missing.exit_code == 4 and missing.stderr.startswith("error: no webhook")
    for result in (bad, unknown, missing):
        assert "Traceback" not in result.output + result.stderr


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_webhook_commands_against_a_server(runtime: Runtime, keys: Keys, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RINGFENCE_URL", "RINGFENCE_KEY", "RINGFENCE_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with live_server(runtime, daemons=False) as base:

        def remote(*args: str, key: str = keys.reader) -> Result:
            return CliRunner().invoke(main, ["--url", base, "--key", key, *args], catch_exceptions=False)

        added = _ok(remote("webhooks", "add", URL, "--prefix", "+4477", "--json"))
        answer = orjson.loads(added.stdout)
        hook_id = answer["webhook"]["id"]
        assert answer["secret"].startswith("whsec_") and answer["webhook"]["member"] == "contact-centre-c"
        assert [h["id"] for h in orjson.loads(_ok(remote("webhooks", "list", "--json")).stdout)] == [hook_id]
        assert orjson.loads(_ok(remote("webhooks", "list", "--json", key=keys.reporter)).stdout) == []
        hidden = remote("webhooks", "show", hook_id, key=keys.reporter)
        assert hidden.exit_code == 4 and "no webhook" in hidden.stderr
        assert "disabled webhook" in _ok(remote("webhooks", "disable", hook_id)).stdout
        assert "enabled webhook" in _ok(remote("webhooks", "enable", hook_id)).stdout
        _ok(remote("webhooks", "test", hook_id))
        log = orjson.loads(_ok(remote("webhooks", "deliveries", hook_id, "--json")).stdout)
        assert [d["kind"] for d in log["deliveries"]] == ["ping"]
        assert "previous secret also signs" in _ok(remote("webhooks", "rotate-secret", hook_id)).stdout
        assert "removed webhook" in _ok(remote("webhooks", "remove", hook_id)).stdout
