"""``serve``: the HTTP API, served by granian with one worker (the lookup index lives in that process)."""

from __future__ import annotations

import os
from dataclasses import replace

import click

from ringfence.config import SETTINGS, Settings
from ringfence.monitoring.demo import DEMO_HOTLIST, seed_demo_traffic
from ringfence.registry.demo import seed_demo
from ringfence.runtime import Runtime

from .state import State, pass_state

__all__ = ["COMMANDS", "run_server", "serve"]


def run_server(settings: Settings) -> None:
    """Serve the API with granian until SIGINT or SIGTERM: one worker process, which builds its runtime from the
    ``RINGFENCE_*`` environment (``ringfence.api.asgi:app``), so the settings of this command are handed over there."""
    from granian import Granian
    from granian.constants import Interfaces, Loops
    from granian.log import LogLevels

    for setting in SETTINGS:
        value = getattr(settings, setting.name)
        if value is None:
            os.environ.pop(setting.env, None)
        else:
            os.environ[setting.env] = str(value)
    Granian(
        "ringfence.api.asgi:app",
        factory=True,
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        loop=Loops.uvloop,  # measured: a quarter more lookups per second than the asyncio loop
        workers=1,
        log_level=LogLevels.warning,
    ).serve()


def _base_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"


def _announce_demo(runtime: Runtime, base: str) -> None:
    demo = seed_demo(runtime.members, runtime.registry)
    traffic = seed_demo_traffic(runtime)
    click.echo(f"demo data ready: {runtime.registry.listing_count()} listings")
    if traffic is not None:
        incidents = len({i for i in traffic.incidents if i is not None})
        click.echo(f"demo call records: {traffic.rows} scanned against hotlist {DEMO_HOTLIST}, {incidents} incidents")
    click.echo("demo API keys (new for this start; they are not shown again):")
    width = max(len(name) for name in demo.keys)
    for name, key in demo.keys.items():
        click.echo(f"  {name.ljust(width)}  {key}")
    reader = demo.keys.get("demo-contact-centre") or next(iter(demo.keys.values()))
    click.echo("try:")
    click.echo(f'  curl -H "Authorization: Bearer {reader}" {base}/v1/numbers/{demo.sample_number}')
    carrier = demo.keys.get("demo-carrier")
    if carrier:
        click.echo(f'  curl -H "Authorization: Bearer {carrier}" "{base}/v1/alerts?status=open"')


@click.command()
@click.option("--host", metavar="ADDRESS", help="Address to listen on (default: RINGFENCE_HOST or 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default: RINGFENCE_PORT or 8000).")
@click.option("--demo", is_flag=True, help="Add demo members and listings, and print keys to try them with.")
@pass_state
def serve(state: State, host: str | None, port: int | None, demo: bool) -> None:
    """Serve the HTTP API (docs at /docs) over the local database."""
    settings = replace(state.settings, host=host or state.settings.host, port=port or state.settings.port)
    base = _base_url(settings.host, settings.port)
    # migrates the store before the server starts; with the demo, loads the index to pick a listed number to show
    runtime = state.runtime(load_index=demo)
    if demo:
        _announce_demo(runtime, base)
    state.close()  # the server's worker opens its own runtime and loads the index
    click.echo(f"ringfence listening on {base} (API docs: {base}/docs); Ctrl-C stops it")
    if settings.dns_port:
        hosts = [h.strip() for h in settings.dns_host.split(",") if h.strip()]
        where = " ".join(f"[{h}]:{settings.dns_port}" if ":" in h else f"{h}:{settings.dns_port}" for h in hosts)
        click.echo(f"dns: udp+tcp {where}, zone {settings.dns_zone}")
    run_server(settings)


COMMANDS = (serve,)
