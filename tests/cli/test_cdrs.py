"""``ringfence cdrs``: scanning files and stdin on the local database, exit codes, the quarantine, presets."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from ringfence.cli import main
from tests.monitoring.cdrfiles import csv_of, row

HOTLISTED = "+88216000001"


def _run(db: str, *args: str, stdin: bytes | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--database-url", db, *args], input=stdin, catch_exceptions=False)
    return result.exit_code, result.output


def _setup(tmp_path: Path) -> str:
    db = f"sqlite:///{tmp_path}/rf.db"
    assert _run(db, "members", "add", "carrier-a", "--role", "reporter")[0] == 0
    hotlist = tmp_path / "irsf.txt"
    hotlist.write_text(HOTLISTED + "\n")
    assert _run(db, "hotlists", "create", "irsf")[0] == 0
    assert _run(db, "hotlists", "import", "irsf", str(hotlist))[0] == 0
    return db


def test_scan_a_file_prints_alerts_and_quarantined_lines(tmp_path: Path) -> None:
    db = _setup(tmp_path)
    cdrs = tmp_path / "day.csv"
    cdrs.write_bytes(csv_of([row(0, "+447700900001", HOTLISTED, 30), "garbage,,,,,,,,"]))
    code, out = _run(db, "cdrs", "scan", str(cdrs), "--member", "carrier-a")
    assert code == 1, out  # a row was quarantined
    assert "line 3:" in out and "hotlist_hit" in out and f"number:{HOTLISTED}" in out
    quarantine = tmp_path / "bad.csv"
    code, out = _run(db, "cdrs", "scan", str(cdrs), "--member", "carrier-a", "--json", "--quarantine", str(quarantine))
    answer = json.loads(out)
    assert answer["new_alerts"] == 0 and answer["duplicates"] == answer["alerts"] >= 1  # scanned before
    assert quarantine.read_text().splitlines()[1].startswith("day.csv,3,missing_field,")
    code, out = _run(db, "cdrs", "quarantine", "--json")
    assert [(r["line"], r["source"]) for r in json.loads(out)] == [(3, "day.csv"), (3, "day.csv")]


def test_scan_stdin_in_stream_mode(tmp_path: Path) -> None:
    db = _setup(tmp_path)
    data = csv_of([row(0, "+447700900001", HOTLISTED, 30), row(5, "+447700900002", "+442079460018")])
    code, out = _run(db, "cdrs", "scan", "-", "--member", "carrier-a", "--json", stdin=data)
    assert code == 0, out
    answer = json.loads(out)
    assert (answer["mode"], answer["rows"], answer["source"]) == ("stream", 2, "stdin")
    assert {a["subject"] for a in answer["raised"] if a["rule"] == "hotlist_hit"} == {f"number:{HOTLISTED}"}


def test_scan_needs_a_reporting_member_and_a_known_preset(tmp_path: Path) -> None:
    db = _setup(tmp_path)
    cdrs = tmp_path / "day.csv"
    cdrs.write_bytes(csv_of([row(0, "+447700900001", HOTLISTED, 30)]))
    code, out = _run(db, "cdrs", "scan", str(cdrs))
    assert code == 2 and "--member" in out
    code, out = _run(db, "cdrs", "scan", str(cdrs), "--member", "carrier-a", "--preset", "nope")
    assert code == 2 and "nope" in out


def test_presets_are_listed() -> None:
    code, out = _run("sqlite://", "cdrs", "presets", "--json")
    assert code == 0
    assert {"ringfence", "wholesale", "asterisk"} <= {p["name"] for p in json.loads(out)}


def test_follow_evaluates_lines_as_they_are_appended(tmp_path: Path) -> None:
    """``--follow`` in a real process: a line appended to the file raises its alert while the command runs."""
    import os
    import signal
    import subprocess
    import sys
    import time

    db = _setup(tmp_path)
    growing = tmp_path / "live.csv"
    growing.write_bytes(csv_of([row(0, "+447700900002", "+442079460018")]))
    command = [sys.executable, "-m", "ringfence.cli", "--database-url", db, "cdrs", "scan", str(growing)]
    process = subprocess.Popen(
        [*command, "--follow", "--member", "carrier-a", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        time.sleep(1.0)
        with growing.open("ab") as out:
            out.write((row(60, "+447700900001", HOTLISTED, 30) + "\n").encode())
        deadline = time.monotonic() + 20
        raised: list[str] = []
        while not raised and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            answer = json.loads(line)
            raised = [a["subject"] for a in answer["raised"]]
        assert f"number:{HOTLISTED}" in raised
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(10)
