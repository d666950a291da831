"""``check``, ``report`` and ``withdraw``: look numbers up, report one, take a report back."""

from __future__ import annotations

from typing import Any

import click

from ringfence.answers import answer_one
from ringfence.errors import InvalidInput
from ringfence.numbers import normalise
from ringfence.registry.intake import parse_report
from ringfence.registry.views import report_view

from .output import echo_error, print_json, show_lookups, show_report
from .remote import path_part
from .state import State, pass_state

__all__ = ["COMMANDS", "check", "report", "withdraw"]


def _lookup(state: State, raw: str) -> dict[str, Any]:
    remote = state.remote
    if remote is not None:
        answer: dict[str, Any] = remote.call(
            "GET", f"/v1/numbers/{path_part(raw)}", params={"region": state.settings.default_region}
        )
        return answer
    runtime = state.runtime(load_index=True)
    number = normalise(raw, state.settings.default_region)
    return answer_one(runtime, number, None)


@click.command()
@click.argument("numbers", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the answers as JSON.")
@pass_state
def check(state: State, numbers: tuple[str, ...], as_json: bool) -> None:
    """Is each NUMBER listed? Invalid numbers get an error line each (and exit code 2); the others still answer."""
    answers: list[dict[str, Any]] = []
    failed: InvalidInput | None = None
    for raw in numbers:
        try:
            answers.append(_lookup(state, raw))
        except InvalidInput as err:
            failed = failed or err
            echo_error(err)
            answers.append({"input": raw, "error": err.to_dict()})
    if as_json:
        print_json(answers)
    else:
        show_lookups([a for a in answers if "error" not in a])
    if failed is not None:
        raise click.exceptions.Exit(failed.exit_code)


@click.command()
@click.argument("number")
@click.option("--category", "-c", required=True, help="What the number was used for (robocall, vishing, irsf, ...).")
@click.option("--occurred-at", metavar="TIME", help="When it happened, ISO 8601 (default: now).")
@click.option("--note", help="Free text for the consortium (no personal data).")
@click.option("--report-id", metavar="REF", help="Your own reference; resending it is a no-op.")
@click.option("--member", metavar="NAME", help="The member reporting (local database only; remote: the key's).")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
@pass_state
def report(
    state: State,
    number: str,
    category: str,
    occurred_at: str | None,
    note: str | None,
    report_id: str | None,
    member: str | None,
    as_json: bool,
) -> None:
    """Report NUMBER as used for fraud."""
    fields: dict[str, object] = {"number": number, "category": category}
    fields.update({k: v for k, v in (("occurred_at", occurred_at), ("note", note), ("report_id", report_id)) if v})
    remote = state.remote
    if remote is not None:
        answer: dict[str, Any] = remote.call("POST", "/v1/reports", json=fields)
    else:
        reporter = state.reporter(member)
        runtime = state.runtime()
        settings = state.settings
        new = parse_report(
            fields,
            now_ms=runtime.clock.now_ms(),
            region=settings.default_region,
            future_skew_ms=settings.future_skew_ms,
        )
        stored, created = runtime.registry.report(reporter, new)
        # a write puts the number's whole listing, as the store now holds it, into the index: no load needed
        listing = answer_one(runtime, stored.number, reporter.id)
        answer = {"report": report_view(stored), "duplicate": not created, "listing": listing}
    print_json(answer) if as_json else show_report(answer)


@click.command()
@click.argument("report_ref", metavar="ID")
@click.option("--member", metavar="NAME", help="The member whose report it is (local database only).")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
@pass_state
def withdraw(state: State, report_ref: str, member: str | None, as_json: bool) -> None:
    """Withdraw one of your reports, by ringfence's ID or your own report_id."""
    remote = state.remote
    if remote is not None:
        answer: dict[str, Any] = remote.call("DELETE", f"/v1/reports/{path_part(report_ref)}")
    else:
        reporter = state.reporter(member)
        runtime = state.runtime()
        withdrawn = runtime.registry.withdraw(reporter, report_ref)
        listing = answer_one(runtime, withdrawn.number, reporter.id)
        answer = {"report": report_view(withdrawn), "duplicate": False, "listing": listing}
    print_json(answer) if as_json else show_report(answer)


COMMANDS = (check, report, withdraw)
