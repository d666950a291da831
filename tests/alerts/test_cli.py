"""``ringfence alerts``: list, show, ack, close and summary on the local database (JSON and tables), their mistakes,
and the same commands against a running server with --url/--key."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result

from ringfence.cli import main
from ringfence.clock import FixedClock
from ringfence.config import Settings
from ringfence.registry.models import Role
from ringfence.rules.models import Severity
from ringfence.runtime import Runtime
from tests.alerts.factory import HOUR, NUMBER, SUBJECT, T0, make_alert
from tests.live import live_server
from tests.support import Keys

Run = Callable[..., Result]


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    for name in ("RINGFENCE_URL", "RINGFENCE_KEY", "RINGFENCE_DEFAULT_REGION", "RINGFENCE_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return f"sqlite:///{tmp_path / 'cli.db'}"


@pytest.fixture
def run(database: str) -> Run:
    def invoke(*args: str) -> Result:
        return CliRunner().invoke(main, ["--database-url", database, *args])

    return invoke


@pytest.fixture
def incidents(database: str) -> list[int]:
    """Two incidents of carrier-a (one critical wangiri) and one of bank-b, recorded as a scan would."""
    runtime = Runtime.open(Settings(database_url=database), clock=FixedClock(T0), load_index=False)
    try:
        carrier = runtime.members.add("carrier-a", Role.REPORTER)[0]
        bank = runtime.members.add("bank-b", Role.REPORTER)[0]
        runtime.members.add("contact-centre-c", Role.READER)
        made = runtime.alerts.record(
            carrier.id,
            [make_alert(T0), make_alert(T0 + HOUR), make_alert(T0, rule="wangiri", severity=Severity.CRITICAL)],
            source="day1.csv",
        )
        theirs = runtime.alerts.record(bank.id, [make_alert(T0)], source="day1.csv")
        return [made.incidents[0], made.incidents[2], theirs.incidents[0]]
    finally:
        runtime.close()


def test_list_show_and_summary_locally(run: Run, incidents: list[int]) -> None:
    hits, wangiri, theirs = incidents
    listed = run("alerts", "list", "--json")
    assert listed.exit_code == 0, listed.output
    page = orjson.loads(listed.stdout)
    assert [(i["id"], i["member"]) for i in page["incidents"]] == [
        (theirs, "bank-b"),
        (wangiri, "carrier-a"),
        (hits, "carrier-a"),
    ]
    only = orjson.loads(run("alerts", "list", "--member", "carrier-a", "--severity", "critical", "--json").stdout)
    assert [i["id"] for i in only["incidents"]] == [wangiri]
    table = run("alerts", "list", "--status", "open", "--limit", "2")
    assert table.exit_code == 0 and "wangiri" in table.stdout and "bank-b" in table.stdout
    assert f"more: --before {wangiri}" in table.stdout

    shown = run("alerts", "show", str(hits), "--json")
    detail = orjson.loads(shown.stdout)
    assert detail["incident"]["alert_count"] == 2 and len(detail["alerts"]) == 2
    assert detail["alerts"][0]["evidence"][0]["called"] == f"+{NUMBER}"
    human = run("alerts", "show", str(hits))
    assert human.exit_code == 0 and SUBJECT in human.stdout and "carrier-a" in human.stdout
    assert "hotlist_hit on number" in human.stdout  # the alerts' summaries

    counts = orjson.loads(run("alerts", "summary", "--json").stdout)
    assert counts["total"] == 3 and counts["by_rule"]["wangiri"]["open"] == 1
    text = run("alerts", "summary", "--member", "bank-b")
    assert text.exit_code == 0 and "incidents: 1 (open: 1, acknowledged: 0, closed: 0)" in text.stdout


def test_ack_and_close_locally_reporting_the_numbers(run: Run, incidents: list[int]) -> None:
    hits, wangiri, _ = incidents
    acked = run("alerts", "ack", str(hits), "--member", "contact-centre-c", "--note", "seen")
    assert acked.exit_code == 4, acked.output  # a reader of another member: not found
    acked = run("alerts", "ack", str(hits), "--member", "carrier-a", "--note", "seen")
    assert acked.exit_code == 0 and f"incident {hits}: acknowledged by carrier-a" in acked.stdout
    closed = run("alerts", "close", str(hits), "fraud", "--report", "--member", "carrier-a", "--json")
    assert closed.exit_code == 0, closed.output
    answer = orjson.loads(closed.stdout)
    assert answer["incident"]["verdict"] == "fraud" and [r["outcome"] for r in answer["reports"]] == ["reported"]
    human = run("alerts", "close", str(wangiri), "false_positive", "--member", "carrier-a", "--note", "test")
    assert human.exit_code == 0 and f"incident {wangiri}: closed as false_positive" in human.stdout
    again = run("alerts", "close", str(wangiri), "fraud", "--member", "carrier-a")
    assert again.exit_code == 5 and "closed already" in again.stderr
    checked = run("check", f"+{NUMBER}", "--json")
    assert checked.exit_code == 0 and orjson.loads(checked.stdout)[0]["listed"] is True


def test_mistakes_are_clear_errors(run: Run, incidents: list[int]) -> None:
    hits = incidents[0]
    assert run("alerts", "close", str(hits), "fraud").exit_code == 2  # --member needed locally
    assert run("alerts", "ack", str(hits)).exit_code == 2
    wrong = run("alerts", "close", str(hits), "guilty", "--member", "carrier-a")
    assert wrong.exit_code == 2 and "unknown verdict" in wrong.stderr
    reader = run("alerts", "close", str(hits), "fraud", "--member", "contact-centre-c")
    assert reader.exit_code == 3 and "needs reporter" in reader.stderr
    assert run("alerts", "show", "12345").exit_code == 4
    assert run("alerts", "list", "--member", "nobody").exit_code == 4
    assert run("alerts", "list", "--severity", "dire").exit_code == 2
    bad_time = run("alerts", "list", "--since", "yesterday")
    assert bad_time.exit_code == 2 and "ISO 8601" in bad_time.output


@pytest.fixture
def served(runtime: Runtime, keys: Keys, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name in ("RINGFENCE_URL", "RINGFENCE_KEY", "RINGFENCE_DATABASE_URL", "RINGFENCE_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    with live_server(runtime, daemons=False) as url:
        yield url


def test_the_same_commands_against_a_server(served: str, runtime: Runtime, keys: Keys) -> None:
    def remote(key: str, *args: str) -> Result:
        return CliRunner().invoke(main, ["--url", served, "--key", key, *args])

    carrier = runtime.members.get("carrier-a")
    (incident,) = runtime.alerts.record(carrier.id, [make_alert(T0)], source="day1.csv").incidents
    mine = orjson.loads(remote(keys.reporter, "alerts", "list", "--json").stdout)
    assert [i["id"] for i in mine["incidents"]] == [incident]
    assert orjson.loads(remote(keys.reporter2, "alerts", "list", "--json").stdout)["incidents"] == []
    assert remote(keys.reporter2, "alerts", "show", str(incident)).exit_code == 4
    shown = orjson.loads(remote(keys.reporter, "alerts", "show", str(incident), "--json").stdout)
    assert shown["alerts"][0]["source"] == "day1.csv"
    assert remote(keys.reporter, "alerts", "ack", str(incident), "--note", "on it").exit_code == 0
    closed = remote(keys.reporter, "alerts", "close", str(incident), "fraud", "--report")
    assert closed.exit_code == 0, closed.output
    assert "reported 1 of 1 numbers to the registry" in closed.stdout
    counts = orjson.loads(remote(keys.admin, "alerts", "summary", "--json").stdout)
    assert counts["by_verdict"] == {"fraud": 1, "false_positive": 0}
    assert remote(keys.reporter, "alerts", "list", "--member", "bank-b").exit_code == 3
