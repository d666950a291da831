"""``ringfence pin``, ``unpin``, ``expire``, ``audit`` and ``sweep``: on the local database (SQLite and PostgreSQL)
and against a running server (``--url``/``--key``), both on the injected clock.

Every command opens its own runtime, as a real invocation does; the runtimes take the test's clock in place of the
system's, so a listing can be made to decay: a single reporter's vishing listing decays below its threshold in
about 2.8 days.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result

from ringfence.cli import main
from ringfence.clock import FixedClock
from ringfence.runtime import Runtime
from tests.live import live_server
from tests.support import Keys

Run = Callable[..., Result]
NUMBER = "+442079460018"
DAY_MS = 86_400_000


@pytest.fixture
def run(database_url: str, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> Run:
    for name in ("RINGFENCE_URL", "RINGFENCE_KEY", "RINGFENCE_DEFAULT_REGION", "RINGFENCE_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("ringfence.runtime.SystemClock", lambda: clock)

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(main, ["--database-url", database_url, *args], catch_exceptions=False)

    return invoke


@pytest.fixture
def org(run: Run) -> None:
    for name, role in (("boss", "admin"), ("acme", "reporter"), ("desk", "reader")):
        assert run("members", "add", name, "--role", role).exit_code == 0


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def as_json(result: Result) -> Any:
    return orjson.loads(ok(result).stdout)


def kinds_after(run: Run, seq: int) -> list[str]:
    lines = ok(run("changes", "--since", str(seq), "--json")).stdout.splitlines()
    return [orjson.loads(line)["kind"] for line in lines]


def head(run: Run) -> int:
    lines = ok(run("changes", "--json")).stdout.splitlines()
    return int(orjson.loads(lines[-1])["seq"]) if lines else 0


def test_pin_unpin_and_sweep_on_the_local_database(run: Run, org: None, clock: FixedClock) -> None:
    ok(run("report", NUMBER, "--category", "vishing", "--member", "acme"))
    clock.advance(4 * DAY_MS)
    assert as_json(run("check", NUMBER, "--json"))[0]["listed"] is False
    seq = head(run)

    pinned = as_json(run("--region", "GB", "pin", "020 7946 0018", "--note", "live case", "--admin", "boss", "--json"))
    assert pinned["number"] == NUMBER and pinned["listed"] is True and pinned["listing"]["pinned"] is True
    assert as_json(run("check", NUMBER, "--json"))[0]["listed"] is True
    shown = ok(run("unpin", NUMBER, "--admin", "boss"))
    assert f"unpinned {NUMBER}: not listed (decayed), score" in shown.stdout
    assert as_json(run("check", NUMBER, "--json"))[0]["listed"] is False

    assert as_json(run("sweep", "--json")) == {"expired": 1}
    assert "expired 0 decayed listings" in ok(run("sweep")).stdout
    assert kinds_after(run, seq) == ["updated", "updated", "expired"]

    page = as_json(run("audit", "--number", NUMBER, "--json"))
    entries = page["entries"]
    assert [(e["action"], e["actor"]) for e in entries] == [("expired", None), ("unpinned", "boss"), ("pinned", "boss")]
    assert entries[2]["note"] == "live case" and entries[2]["after"]["pinned"] is True
    assert entries[0]["at"] == "2026-09-25T14:13:20.000Z" and entries[0]["after"] is None
    assert page["next"] is None
    table = ok(run("audit")).stdout
    assert "ringfence" in table and "boss" in table and "live case" in table


def test_pin_shows_the_listing_as_a_table(run: Run, org: None) -> None:
    ok(run("report", NUMBER, "--category", "vishing", "--member", "acme"))
    shown = ok(run("pin", NUMBER, "--admin", "boss"))
    assert f"pinned {NUMBER}: listed, score 70.0" in shown.stdout and "LISTED" in shown.stdout
    again = as_json(run("pin", NUMBER, "--admin", "boss", "--json"))  # pinning twice changes nothing
    assert again["listing"]["pinned"] is True
    assert len(as_json(run("audit", "--action", "pinned", "--json"))["entries"]) == 1


def test_expire_on_the_local_database(run: Run, org: None) -> None:
    ok(run("report", NUMBER, "--category", "vishing", "--member", "acme"))
    seq = head(run)
    expired = ok(run("expire", NUMBER, "--note", "campaign over", "--admin", "boss"))
    assert f"expired {NUMBER}: 1 standing report retired" in expired.stdout
    assert as_json(run("check", NUMBER, "--json"))[0]["listed"] is False
    assert kinds_after(run, seq) == ["expired"]
    (entry,) = as_json(run("audit", "--action", "expired", "--json"))["entries"]
    assert (entry["actor"], entry["reason"], entry["note"]) == ("boss", "expired", "campaign over")
    assert entry["before"]["report_count"] == 1

    again = run("expire", NUMBER, "--admin", "boss", "--json")
    assert again.exit_code == 4 and again.stderr.strip() == f"error: {NUMBER} is not listed"


def test_the_acting_member_must_be_an_admin(run: Run, org: None) -> None:
    ok(run("report", NUMBER, "--category", "vishing", "--member", "acme"))
    for command in ("pin", "unpin", "expire"):
        missing = run(command, NUMBER)
        assert missing.exit_code == 2 and "--admin NAME is required" in missing.output
        for name in ("acme", "desk"):
            refused = run(command, NUMBER, "--admin", name)
            assert refused.exit_code == 3 and "this needs admin" in refused.stderr
        unknown = run(command, NUMBER, "--admin", "nobody")
        assert unknown.exit_code == 4 and "no member 'nobody'" in unknown.stderr
    assert as_json(run("audit", "--json"))["entries"] == []  # nothing was done
    assert as_json(run("check", NUMBER, "--json"))[0]["listed"] is True


def test_bad_numbers_and_unknown_listings(run: Run, org: None) -> None:
    for command in ("pin", "unpin", "expire"):
        bad = run(command, "hello", "--admin", "boss")
        assert bad.exit_code == 2 and "not a usable phone number" in bad.stderr and "Traceback" not in bad.output
        unknown = run(command, NUMBER, "--admin", "boss")
        assert unknown.exit_code == 4 and unknown.stderr.strip() == f"error: {NUMBER} is not listed"
    assert run("audit", "--number", "hello").exit_code == 2


def test_audit_filters_and_pages(run: Run, org: None, clock: FixedClock) -> None:
    numbers = [f"+44207946001{i}" for i in range(3)]
    for number in numbers:
        ok(run("report", number, "--category", "vishing", "--member", "acme"))
        ok(run("pin", number, "--admin", "boss"))
        clock.advance(60_000)
    first = ok(run("audit", "--limit", "2"))
    assert numbers[2] in first.stdout and numbers[0] not in first.stdout
    assert first.stdout.rstrip().splitlines()[-1].startswith("more: --before ")
    before = first.stdout.rstrip().splitlines()[-1].split()[-1]
    rest = as_json(run("audit", "--limit", "2", "--before", before, "--json"))
    assert [e["number"] for e in rest["entries"]] == [numbers[0]] and rest["next"] is None
    since = as_json(run("audit", "--since", "2026-09-21T14:14:20Z", "--json"))
    assert [e["number"] for e in since["entries"]] == [numbers[2], numbers[1]]
    naive = as_json(run("audit", "--since", "2026-09-21T14:15:20", "--json"))  # no offset: UTC
    assert [e["number"] for e in naive["entries"]] == [numbers[2]]
    assert as_json(run("audit", "--action", "expired", "--json"))["entries"] == []
    bad = run("audit", "--since", "yesterday")
    assert bad.exit_code == 2 and "ISO 8601" in bad.output


# --- against a server ---------------------------------------------------------------------------------------------
@pytest.fixture
def served(runtime: Runtime) -> Iterator[str]:
    with live_server(runtime, daemons=False) as url:
        yield url


@pytest.fixture
def remote(served: str, monkeypatch: pytest.MonkeyPatch) -> Run:
    for name in ("RINGFENCE_URL", "RINGFENCE_KEY", "RINGFENCE_DEFAULT_REGION", "RINGFENCE_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)

    def invoke(*args: str, key: str) -> Result:
        return CliRunner().invoke(main, ["--url", served, "--key", key, *args])

    return invoke


def test_the_same_commands_against_a_server(remote: Run, keys: Keys, clock: FixedClock) -> None:
    ok(remote("report", NUMBER, "--category", "vishing", key=keys.reporter))
    clock.advance(4 * DAY_MS)
    assert as_json(remote("check", NUMBER, "--json", key=keys.reader))[0]["listed"] is False

    pinned = as_json(remote("--region", "GB", "pin", "020 7946 0018", "--note", "live case", "--json", key=keys.admin))
    assert pinned["listed"] is True and pinned["listing"]["pinned"] is True
    assert "not listed (decayed)" in ok(remote("unpin", NUMBER, key=keys.admin)).stdout
    assert as_json(remote("sweep", "--json", key=keys.admin)) == {"expired": 1}

    ok(remote("report", "+442079460019", "--category", "vishing", key=keys.reporter))
    expired = ok(remote("expire", "+442079460019", "--note", "campaign over", key=keys.admin))
    assert "expired +442079460019: 1 standing report retired" in expired.stdout

    page = as_json(remote("audit", "--json", key=keys.admin))
    assert [(e["action"], e["actor"], e["number"]) for e in page["entries"]] == [
        ("expired", "admin-org", "+442079460019"),
        ("expired", None, NUMBER),
        ("unpinned", "admin-org", NUMBER),
        ("pinned", "admin-org", NUMBER),
    ]
    assert page["entries"][0]["note"] == "campaign over" and page["entries"][3]["note"] == "live case"
    filtered = as_json(remote("audit", "--number", NUMBER, "--since", "2026-09-25T14:13:20Z", "--json", key=keys.admin))
    assert len(filtered["entries"]) == 3
    paged = ok(remote("audit", "--limit", "1", "--before", page["entries"][1]["id"], key=keys.admin))
    assert "unpinned" in paged.stdout and "more: --before" in paged.stdout


def test_a_server_refuses_all_but_admins(remote: Run, keys: Keys) -> None:
    ok(remote("report", NUMBER, "--category", "vishing", key=keys.reporter))
    for args in (("pin", NUMBER), ("unpin", NUMBER), ("expire", NUMBER), ("sweep",), ("audit",)):
        for key in (keys.reporter, keys.reader):
            refused = remote(*args, key=key)
            assert refused.exit_code == 3, (args, refused.output)
            assert "this needs admin" in refused.stderr and "Traceback" not in refused.output
    unknown = remote("pin", "+442079460099", key=keys.admin)
    assert unknown.exit_code == 4 and "+442079460099 is not listed" in unknown.stderr
    bad = remote("expire", "hello", key=keys.admin)
    assert bad.exit_code == 2 and "not a usable phone number" in bad.stderr
    assert as_json(remote("check", NUMBER, "--json", key=keys.reader))[0]["listed"] is True
