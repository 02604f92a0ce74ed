"""Command line: serve, db, site/station/token registration, demo, sim and benchmarks."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
import uvicorn
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts import service as accounts
from evhub.assets import service as assets
from evhub.assets.credentials import generate_password
from evhub.auth.cli import register as register_auth_commands
from evhub.billing.cli import billing_app
from evhub.cli_database import run_in_session
from evhub.clock import SystemClock
from evhub.db import migrate
from evhub.payments.cli import payments_app
from evhub.planning.replay_cli import planning as planning_replay
from evhub.planning.v2g_cli import v2g as v2g_replay
from evhub.prices.cli import register as register_prices_commands
from evhub.remote.cli import op_app
from evhub.reporting.cli import report_app
from evhub.roaming.cli import register as register_roaming_commands
from evhub.serving import StoppingServer, uvicorn_options
from evhub.settings import load_settings

app = typer.Typer(help="evhub: operate shared charging hubs.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
site_app = typer.Typer(help="Sites (hubs).", no_args_is_help=True)
station_app = typer.Typer(help="Charging stations.", no_args_is_help=True)
token_app = typer.Typer(help="Driver tokens (RFID, app).", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(site_app, name="site")
app.add_typer(station_app, name="station")
app.add_typer(token_app, name="token")
app.add_typer(bench_app, name="bench")
app.add_typer(report_app, name="report")
app.add_typer(payments_app, name="payments")

console = Console()
T = TypeVar("T")


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )


def _run_in_uow(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run one unit of work against the configured database, migrated first."""
    return run_in_session(work, console)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address")] = None,
    port: Annotated[int | None, typer.Option(help="port for API, OCPP and console")] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="nodes on this machine behind the port (NATS, PostgreSQL)")
    ] = 1,
    reuse_port: Annotated[bool, typer.Option(hidden=True, help="bind with SO_REUSEPORT")] = False,
) -> None:
    """Run the server: REST API, OCPP WebSocket endpoint and console on one port."""
    # The server's imports (every domain, PDF and plotting libraries) are for it alone: the
    # other commands start without them.
    from evhub.app import create_app
    from evhub.cluster.workers import reuse_port_socket, run_workers, workers_refused
    from evhub.ocpp.endpoint import leave_app

    settings = load_settings()
    _configure_logging(settings.log_level)
    host, port = host or settings.host, port or settings.port
    if workers > 1:
        refused = workers_refused(settings, workers)
        if refused is not None:
            console.print(f"[red]error:[/red] {refused}")
            raise typer.Exit(2)
        migrate(settings.database_url)  # once, before the nodes start
        raise typer.Exit(run_workers(settings, host, port, workers))
    sock = reuse_port_socket(host, port) if reuse_port else None
    application = create_app(settings)
    config = uvicorn.Config(
        application,
        host=host,
        port=port,
        fd=sock.fileno() if sock is not None else None,
        log_level=settings.log_level,
        **uvicorn_options(settings),
        timeout_graceful_shutdown=5,
        ssl_certfile=settings.ssl_certfile,
        ssl_keyfile=settings.ssl_keyfile,
    )
    server = StoppingServer(
        config, lambda: leave_app(application), young_threshold=settings.gc_young_threshold
    )
    server.run()
    if not server.started:
        raise typer.Exit(3)  # uvicorn's own exit status when the server could not start


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION."""
    migrate(load_settings().database_url, revision)
    console.print(f"database at {revision}")


@site_app.command("add")
def site_add(
    name: str,
    timezone: Annotated[str, typer.Option(help="IANA time zone, e.g. Europe/Paris")],
    grid_limit_kw: Annotated[float, typer.Option(help="grid connection limit")],
    town: str = "",
    country: str = "FR",
) -> None:
    """Register a site and print its id."""
    now = SystemClock().now()

    async def work(s: AsyncSession) -> int:
        site = await assets.create_site(
            s, now, name, timezone, grid_limit_kw, town=town, country=country
        )
        return site.id

    console.print(f"site {_run_in_uow(work)} created")


@station_app.command("add")
def station_add(
    station_id: str,
    site_id: Annotated[int, typer.Option(help="site the station belongs to")],
    password: Annotated[str | None, typer.Option(help="16-40 chars; generated if omitted")] = None,
    evses: Annotated[int, typer.Option(help="number of EVSEs")] = 1,
    dc: Annotated[bool, typer.Option(help="DC fast charger")] = False,
    max_power_kw: Annotated[float, typer.Option(help="per EVSE")] = 22.0,
    pending: Annotated[bool, typer.Option(help="not commissioned yet: boots get Pending")] = False,
) -> None:
    """Register a station; prints the password to configure on it."""
    secret = password or generate_password()
    now = SystemClock().now()
    specs = [
        assets.EvseSpec(
            evse_id=n,
            current_type="DC" if dc else "AC",
            max_power_kw=max_power_kw,
            standard="cCCS2" if dc else "IEC62196Type2",
        )
        for n in range(1, evses + 1)
    ]

    async def work(s: AsyncSession) -> None:
        await assets.create_station(s, now, station_id, site_id, secret, specs, not pending)

    _run_in_uow(work)
    console.print(f"station {station_id} created; Basic auth password: {secret}")


@token_app.command("add")
def token_add(
    uid: str,
    type_: Annotated[str, typer.Option("--type", help="ISO14443, Central, eMAID...")] = "ISO14443",
    status: Annotated[str, typer.Option(help="Accepted, Blocked, Expired, Invalid")] = "Accepted",
    driver_id: int | None = None,
) -> None:
    """Register a token."""
    now = SystemClock().now()

    async def work(s: AsyncSession) -> None:
        await accounts.create_token(s, uid, type_, status, now, driver_id)

    _run_in_uow(work)
    console.print(f"token {uid} created ({status})")


@station_app.command("list")
def station_list() -> None:
    """List stations with their state."""

    async def work(s: AsyncSession) -> list[tuple[str, ...]]:
        return [
            (st.id, str(st.site_id), st.ocpp_version or "-", "yes" if st.online else "no",
             st.registration_status)
            for st in await assets.list_stations(s)
        ]  # fmt: skip

    table = Table("station", "site", "ocpp", "online", "registration")
    for row in _run_in_uow(work):
        table.add_row(*row)
    console.print(table)


@app.command()
def demo(
    speed: Annotated[float, typer.Option(help="simulated seconds per real second")] = 144.0,
    hours: Annotated[float, typer.Option(help="simulated hours to run (from 08:00)")] = 24.0,
    port: Annotated[int | None, typer.Option(help="port of the server")] = None,
    seed: Annotated[int, typer.Option(help="seed of the day's arrivals")] = 7,
) -> None:
    """The demo hub: 20 AC 22 kW and 4 DC 150 kW points behind 250 kW, a day of drivers."""
    from evhub.demo.run import fresh_demo_database, run_demo

    settings = load_settings()
    _configure_logging("warning")
    overrides = {
        "database_url": fresh_demo_database(settings.var_dir),
        "plan_interval_s": 300.0,
        "port": port if port is not None else settings.port,
    }
    settings = settings.model_copy(update=overrides)
    console.print(
        f"[bold]evhub demo[/bold]: {hours:g} h of a shopping-centre car park at {speed:g}x "
        f"(SQLite at {settings.database_url.split('///')[-1]})"
    )
    summary = asyncio.run(run_demo(settings, speed, hours, seed, console))
    console.print(
        f"day over: {summary.sessions} sessions ({summary.turned_away} turned away), "
        f"{summary.energy_kwh:.0f} kWh delivered, peak {summary.peak_kw:.0f} kW "
        f"of {summary.grid_limit_kw:.0f} kW"
    )


@app.command()
def sim(
    server: Annotated[
        str, typer.Option(help="base URL of a running evhub")
    ] = "http://127.0.0.1:8180",
    speed: Annotated[float, typer.Option(help="simulated seconds per real second")] = 60.0,
    hours: Annotated[float, typer.Option(help="simulated hours to run")] = 24.0,
    ac_points: Annotated[int, typer.Option(help="22 kW AC points (two per station)")] = 20,
    dc_points: Annotated[int, typer.Option(help="150 kW DC points")] = 4,
    seed: int = 7,
    api_key: Annotated[
        str | None, typer.Option(envvar="EVHUB_API_KEY", help="an admin API key of the server")
    ] = None,
) -> None:
    """Register a hub on a running server and drive it with simulated stations and cars."""
    from evhub.demo.run import run_sim

    _configure_logging("warning")
    summary = asyncio.run(run_sim(server, speed, hours, ac_points, dc_points, seed, api_key))
    console.print(
        f"{summary.sessions} sessions ({summary.turned_away} turned away), "
        f"{summary.energy_kwh:.0f} kWh delivered"
    )


bench_app.command("planning")(planning_replay)
bench_app.command("v2g")(v2g_replay)
register_auth_commands(app, _run_in_uow, console)
register_prices_commands(app, _run_in_uow, console)
register_roaming_commands(app, _run_in_uow, console)
app.add_typer(op_app, name="op")
app.add_typer(billing_app, name="billing")
cluster_app = typer.Typer(help="Several nodes on one machine.", no_args_is_help=True)
app.add_typer(cluster_app, name="cluster")


@cluster_app.command("up")
def cluster_up_command(
    port: Annotated[int, typer.Option(help="haproxy's port, in front of the nodes")] = 8180,
    database_url: Annotated[
        str | None, typer.Option(help="PostgreSQL to use (default: a temporary cluster)")
    ] = None,
    demo: Annotated[bool, typer.Option(help="drive the demo hub through haproxy")] = True,
    speed: Annotated[float, typer.Option(help="simulated seconds per real second")] = 144.0,
    hours: Annotated[float, typer.Option(help="simulated hours of the demo, from now")] = 24.0,
) -> None:
    """NATS, PostgreSQL, three nodes and haproxy on loopback, then the demo against them."""
    from evhub.cluster.up import cluster_up

    _configure_logging("warning")
    cluster_up(port, database_url, demo, speed, hours)
