"""``simulate``: write realistic labelled call traffic (CDRs, labels, hotlist) for demos, tests and benchmarks."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from ringfence.errors import InvalidInput
from ringfence.simulate import IrsfAttack, Mix, NormalTraffic, Roaming, SimBox, WangiriBurst, seed_mix, simulate
from ringfence.simulate.timing import DEFAULT_START_MS
from ringfence.simulate.writer import write_traffic

from .output import print_json

__all__ = ["COMMANDS", "simulate_command"]


def _start_ms(text: str | None) -> int:
    if text is None:
        return DEFAULT_START_MS
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"--start {text!r} is not an ISO 8601 date or time (e.g. 2026-11-22 or 2026-11-22T06:00:00Z)",
            code="invalid_time",
            details={"input": text},
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


@click.command("simulate")
@click.argument("output", metavar="CDR_FILE")
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed: the same seed, the same traffic.")
@click.option("--home", default="GB", show_default=True, metavar="CC", help="Home country of the subscribers.")
@click.option("--subscribers", type=click.IntRange(1), default=10_000, show_default=True, help="Subscribers.")
@click.option(
    "--hours", type=click.FloatRange(0, min_open=True), default=24.0, show_default=True, help="Hours to simulate."
)
@click.option("--start", metavar="ISO", help="Start (UTC unless an offset is given). [default: 2026-11-22T00:00Z]")
@click.option(
    "--calls-per-day",
    type=click.FloatRange(0),
    default=4.0,
    show_default=True,
    help="Ordinary calls per subscriber per day, made and received.",
)
@click.option("--irsf", type=click.IntRange(0), default=1, show_default=True, help="IRSF attacks.")
@click.option("--wangiri", type=click.IntRange(0), default=1, show_default=True, help="Wangiri bursts.")
@click.option("--simbox", type=click.IntRange(0), default=1, show_default=True, help="SIM boxes.")
@click.option("--roaming/--no-roaming", default=True, show_default=True, help="Travellers abroad and visitors.")
@click.option("--decoys", type=click.IntRange(0), default=200, show_default=True, help="Hotlist entries no call hits.")
@click.option(
    "--seed-case",
    is_flag=True,
    help="The seed's case instead: one IRSF attack of 18,000 calls to 745 numbers, 260 of them on the hotlist, in a "
    "day of ordinary traffic (--subscribers defaults to 2,000; attack options are ignored).",
)
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), help="CDR format [default: from the name].")
@click.option("--labels", "labels_path", metavar="FILE", help="Labels CSV [default: CDR_FILE's stem .labels.csv].")
@click.option("--hotlist", "hotlist_path", metavar="FILE", help="Hotlist TXT [default: CDR_FILE's stem .hotlist.txt].")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def simulate_command(
    ctx: click.Context,
    output: str,
    seed: int,
    home: str,
    subscribers: int,
    hours: float,
    start: str | None,
    calls_per_day: float,
    irsf: int,
    wangiri: int,
    simbox: int,
    roaming: bool,
    decoys: int,
    seed_case: bool,
    fmt: str | None,
    labels_path: str | None,
    hotlist_path: str | None,
    as_json: bool,
) -> None:
    """Write simulated, labelled traffic to CDR_FILE (CSV, or JSONL by a .jsonl name; .gz to compress), with a
    labels CSV (line, scenario, instance) and the hotlist TXT its IRSF and Wangiri numbers partly appear on.

    Ordinary subscribers follow a daily rhythm; the attacks are IRSF (test calls, then pumping), Wangiri (one ring,
    some callbacks) and a SIM box; roaming adds travellers and visitors. The same options and seed give the same
    files.
    """
    start_ms = _start_ms(start)
    if seed_case:
        given = ctx.get_parameter_source("subscribers") is not click.core.ParameterSource.DEFAULT
        mix = seed_mix(seed, subscribers=subscribers if given else 2_000, home=home, start_ms=start_ms)
    else:
        mix = Mix(
            seed=seed,
            home=home,
            subscribers=subscribers,
            start_ms=start_ms,
            hours=hours,
            normal=NormalTraffic(calls_per_day=calls_per_day),
            irsf=(IrsfAttack(),) * irsf,
            wangiri=(WangiriBurst(),) * wangiri,
            simbox=(SimBox(),) * simbox,
            roaming=Roaming() if roaming else None,
            decoys=decoys,
        )
    written = write_traffic(simulate(mix), output, labels_path, hotlist_path, fmt)
    if as_json:
        print_json(written.to_dict())
        return
    per = ", ".join(f"{name}: {count:,}" for name, count in written.scenarios.items())
    click.echo(f"wrote {written.rows:,} CDRs to {written.cdrs} ({per})")
    click.echo(f"labels: {written.labels}")
    click.echo(f"hotlist: {written.hotlist} ({written.entries:,} entries)")


COMMANDS = (simulate_command,)
