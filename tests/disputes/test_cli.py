"""``ringfence disputes`` on a local SQLite store, and the same commands against the HTTP API with --url/--key."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from click.testing import CliRunner, Result
from starlette.types import ASGIApp

from ringfence.api import create_app
from ringfence.cli import main
from ringfence.cli.remote import Remote
from ringfence.clock import FixedClock
from ringfence.config import Settings
from ringfence.registry.models import FLAG_DISPUTED, Role
from ringfence.runtime import Runtime
from tests.conftest import START_MS

Run = Callable[..., Result]


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    for name in ("RINGFENCE_URL", "RINGFENCE_KEY", "RINGFENCE_DEFAULT_REGION", "RINGFENCE_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return f"sqlite:///{tmp_path / 'cli.db'}"


@pytest.fixture
def run(url: str) -> Run:
    def invoke(*args: str) -> Result:
        return CliRunner().invoke(main, ["--database-url", url, "--region", "GB", *args], catch_exceptions=False)

    return invoke


@pytest.fixture
def listed(run: Run) -> str:
    """Members of every role, and a listed number."""
    for name, role in (("carrier", "reporter"), ("centre", "reader"), ("bank", "reader"), ("boss", "admin")):
        assert run("members", "add", name, "--role", role).exit_code == 0
    number = "020 7946 0018"
    assert run("report", number, "--category", "vishing", "--member", "carrier").exit_code == 0
    return number


def _json(result: Result) -> Any:
    assert result.exit_code == 0, result.output + result.stderr
    return orjson.loads(result.stdout)


def _flags(url: str) -> int:
    runtime = Runtime.open(Settings(database_url=url), load_index=True)
    try:
        listing = runtime.registry.lookup(442079460018)
        return -1 if listing is None else listing.flags
    finally:
        runtime.close()


def test_open_list_and_reject(run: Run, url: str, listed: str) -> None:
    opened = run("disputes", "open", listed, "--reason", "legitimate_customer", "--member", "centre", "--note", "ours")
    assert opened.exit_code == 0, opened.output + opened.stderr
    assert re.search(r"opened dispute 1 of \+442079460018 \(legitimate_customer\)", opened.stdout)
    assert _flags(url) == FLAG_DISPUTED
    rows = orjson.loads(run("disputes", "list", "--status", "open", "--json").stdout)
    assert [(d["id"], d["member"], d["status"], d["note"]) for d in rows] == [("1", "centre", "open", "ours")]
    assert "centre" in run("disputes", "list").stdout
    assert orjson.loads(run("disputes", "list", "--member", "bank", "--json").stdout) == []
    assert orjson.loads(run("disputes", "list", "--number", "+442079460019", "--json").stdout) == []

    rejected = run("disputes", "resolve", "1", "rejected", "--admin", "boss", "--note", "fraud confirmed")
    assert rejected.exit_code == 0 and "dispute 1 of +442079460018: rejected" in rejected.stdout
    assert _flags(url) == 0
    shown = _json(run("disputes", "show", "1", "--json"))
    assert (shown["status"], shown["resolution_note"]) == ("rejected", "fraud confirmed")


def test_upheld_removes_the_listing_and_withdraw(run: Run, url: str, listed: str) -> None:
    first = _json(run("disputes", "open", listed, "--reason", "own_number", "--member", "centre", "--json"))
    second = _json(run("disputes", "open", listed, "--reason", "reassigned", "--member", "bank", "--json"))
    withdrawn = run("disputes", "withdraw", str(second["id"]), "--member", "bank")
    assert withdrawn.exit_code == 0 and "withdrew dispute" in withdrawn.stdout
    upheld = _json(run("disputes", "resolve", str(first["id"]), "upheld", "--admin", "boss", "--json"))
    assert upheld["status"] == "upheld" and upheld["resolved_by"] is not None
    assert _flags(url) == -1  # no longer listed
    assert "not listed" in run("check", listed).stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("open", "020 7946 0018", "--reason", "dislike", "--member", "centre"), 2, "unknown dispute reason"),
        (("open", "junk", "--reason", "own_number", "--member", "centre"), 2, "not a usable phone number"),
        (("open", "020 7946 0019", "--reason", "own_number", "--member", "centre"), 4, "is not listed"),
        (("open", "020 7946 0018", "--reason", "own_number"), 2, "--member NAME is required"),
        (("open", "020 7946 0018", "--reason", "own_number", "--member", "nobody"), 4, "no member"),
        (("resolve", "1", "upheld", "--admin", "carrier"), 3, "this needs admin"),
        (("resolve", "1", "perhaps", "--admin", "boss"), 2, "unknown outcome"),
        (("resolve", "7", "upheld", "--admin", "boss"), 4, "no dispute"),
        (("withdraw", "1", "--member", "bank"), 4, "no dispute"),
        (("list", "--status", "closed"), 2, "unknown dispute status"),
    ],
)
def test_bad_input_is_one_error_line(run: Run, listed: str, args: tuple[str, ...], code: int, message: str) -> None:
    assert run("disputes", "open", listed, "--reason", "own_number", "--member", "centre").exit_code == 0
    result = run("disputes", *args)
    assert result.exit_code == code, result.output + result.stderr
    assert message in result.stderr and "Traceback" not in result.output + result.stderr


class _Bridge(httpx.BaseTransport):
    """A synchronous httpx transport over the ASGI app: the CLI's blocking client calls the API in process."""

    def __init__(self, app: ASGIApp) -> None:
        self._asgi = httpx.ASGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def send() -> httpx.Response:
            response = await self._asgi.handle_async_request(request)
            content = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=content)

        return asyncio.run(send())


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, url: str) -> Iterator[dict[str, str]]:
    """The API over the same store, reached by --url in process; yields a key per member."""
    runtime = Runtime.open(Settings(database_url=url, default_region="GB"), clock=FixedClock(START_MS))
    members = (("carrier", Role.REPORTER), ("centre", Role.READER), ("boss", Role.ADMIN))
    keys = {name: runtime.members.add(name, role)[1] for name, role in members}
    transport = _Bridge(create_app(runtime, daemons=False))

    def remote_init(self: Remote, target: str, key: str | None, *, timeout: float = 60.0) -> None:
        self.url = target
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._client = httpx.Client(transport=transport, base_url=target, headers=headers)

    monkeypatch.setattr(Remote, "__init__", remote_init)
    try:
        yield keys
    finally:
        runtime.close()


def test_the_same_commands_against_the_api(server: dict[str, str]) -> None:
    def remote(key: str, *args: str) -> Result:
        return CliRunner().invoke(
            main, ["--url", "http://ringfence.test", "--key", server[key], "--region", "GB", *args]
        )

    assert remote("carrier", "report", "020 7946 0018", "--category", "vishing").exit_code == 0
    opened = _json(remote("centre", "disputes", "open", "020 7946 0018", "--reason", "own_number", "--json"))
    assert opened["status"] == "open" and "member" not in opened
    mine = _json(remote("centre", "disputes", "list", "--json", "--number", "020 7946 0018"))
    assert [d["id"] for d in mine] == [opened["id"]]
    assert orjson.loads(remote("carrier", "disputes", "list", "--json").stdout) == []
    hidden = remote("carrier", "disputes", "show", str(opened["id"]))
    assert hidden.exit_code == 4 and "no dispute" in hidden.stderr
    refused = remote("centre", "disputes", "resolve", str(opened["id"]), "upheld")
    assert refused.exit_code == 3
    upheld = _json(remote("boss", "disputes", "resolve", str(opened["id"]), "upheld", "--note", "ok", "--json"))
    assert upheld["status"] == "upheld" and upheld["member"] == "centre"
    assert "not listed" in remote("carrier", "check", "020 7946 0018").stdout
