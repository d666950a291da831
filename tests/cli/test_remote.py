"""``ringfence serve --demo`` as a real server process (granian), and the CLI working against it with --url/--key.

This is the README's quick start: the demo prints keys, the server answers over loopback, and every remote command
gives the same answers as its local twin. The last test restarts the server and finds every acknowledged report.
"""

from __future__ import annotations

import gzip
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest
from click.testing import CliRunner, Result

from ringfence.cli import main


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    keys: dict[str, str]
    process: subprocess.Popen[str]
    output: list[str]


def _start(tmp_path: Path, port: int, demo: bool) -> Server:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RINGFENCE_")}
    env["RINGFENCE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'served.db'}"
    args = [sys.executable, "-m", "ringfence.cli", "serve", "--port", str(port), *(["--demo"] if demo else [])]
    process = subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    output: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            raise AssertionError(f"server exited: {process.stdout.read() if process.stdout else ''}")
        time.sleep(0.2)
    else:
        raise AssertionError("server did not become ready within 60 s")
    keys: dict[str, str] = {}
    if demo:
        assert process.stdout is not None
        while "listening on" not in (line := process.stdout.readline()):
            output.append(line)
            found = re.match(r"\s+(demo-[\w-]+)\s+(rf_\S+)", line)
            if found:
                keys[found.group(1)] = found.group(2)
        output.append(line)
    return Server(url, keys, process, output)


def _stop(server: Server) -> None:
    os.killpg(server.process.pid, signal.SIGTERM)
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Server]:
    server = _start(tmp_path, _free_port(), demo=True)
    try:
        yield server
    finally:
        _stop(server)


Remote = Callable[..., Result]


@pytest.fixture
def remote(served: Server, monkeypatch: pytest.MonkeyPatch) -> Remote:
    for name in ("RINGFENCE_URL", "RINGFENCE_KEY", "RINGFENCE_DATABASE_URL", "RINGFENCE_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)

    def invoke(*args: str, key: str = "demo-carrier") -> Result:
        return CliRunner().invoke(main, ["--url", served.url, "--key", served.keys[key], *args])

    return invoke


def test_demo_prints_keys_and_a_working_curl_line(served: Server) -> None:
    assert set(served.keys) == {"demo-admin", "demo-carrier", "demo-bank", "demo-contact-centre"}
    text = "".join(served.output)
    assert "demo data ready: 450 listings" in text
    curl = re.search(r'curl -H "Authorization: Bearer (\S+)" (\S+)', text)
    assert curl is not None
    answer = httpx.get(curl.group(2), headers={"Authorization": f"Bearer {curl.group(1)}"})
    assert answer.status_code == 200 and answer.json()["listed"] is True


def test_remote_report_then_check(remote: Remote) -> None:
    made = remote("report", "+44 20 7946 0999", "--category", "wangiri", "--report-id", "cli-1")
    assert made.exit_code == 0, made.output
    checked = remote("check", "+442079460999", "not-a-number", "--json", key="demo-contact-centre")
    assert checked.exit_code != 0  # one input was unusable
    answers = orjson.loads(checked.stdout)
    assert answers[0]["listed"] is True and "wangiri" in answers[0]["listing"]["categories"]
    assert answers[1]["error"]["code"] == "invalid_number"
    refused = remote("report", "+442079460998", "--category", "vishing", key="demo-contact-centre")
    assert refused.exit_code == 3 and "reporter" in refused.stderr
    assert "Traceback" not in refused.output


def test_remote_import_and_export(remote: Remote, tmp_path: Path) -> None:
    source = tmp_path / "reports.csv.gz"
    source.write_bytes(
        gzip.compress(b"number,category\n+447400123456,robocall\nbogus,robocall\n+447400123457,martian\n")
    )
    imported = remote("import", str(source))
    assert imported.exit_code == 1, imported.output  # some rows were rejected
    assert "line 3" in imported.output and "line 4" in imported.output
    exported = remote("export", "--format", "jsonl", key="demo-contact-centre")
    assert exported.exit_code == 0, exported.output
    numbers = {orjson.loads(line)["number"] for line in exported.stdout.splitlines()}
    assert "+447400123456" in numbers and len(numbers) == 451


def test_remote_members_need_an_admin(remote: Remote) -> None:
    assert remote("members", "list").exit_code == 3
    listed = remote("members", "list", "--json", key="demo-admin")
    assert listed.exit_code == 0
    assert {m["name"] for m in orjson.loads(listed.stdout)} >= {"demo-admin", "demo-bank"}


def test_wrong_key_and_unreachable_server_are_clear_errors(served: Server) -> None:
    bad = CliRunner().invoke(main, ["--url", served.url, "--key", "rf_aaaaaaaa_nope", "check", "+442079460018"])
    assert bad.exit_code == 3 and "not known" in bad.stderr
    down = CliRunner().invoke(main, ["--url", f"http://127.0.0.1:{_free_port()}", "--key", "k", "check", "+4420"])
    assert down.exit_code != 0 and "Traceback" not in down.output and "127.0.0.1" in down.stderr


def test_acknowledged_reports_survive_a_server_restart(tmp_path: Path) -> None:
    port = _free_port()
    first = _start(tmp_path, port, demo=True)
    key = first.keys["demo-carrier"]
    headers = {"Authorization": f"Bearer {key}"}
    acknowledged = []
    try:
        for i in range(50):
            number = f"+4474001{i:05d}"
            answer = httpx.post(f"{first.url}/v1/reports", json={"number": number, "category": "irsf"}, headers=headers)
            assert answer.status_code == 201
            acknowledged.append(number)
    finally:
        os.killpg(first.process.pid, signal.SIGKILL)  # no clean shutdown
        first.process.wait()
    second = _start(tmp_path, port, demo=False)
    try:
        found = httpx.post(f"{second.url}/v1/numbers/lookup", json={"numbers": acknowledged}, headers=headers)
        assert [r["listed"] for r in found.json()["results"]] == [True] * 50
        assert httpx.get(f"{second.url}/ready").json()["listings"] == 500
    finally:
        _stop(second)
