"""`evhub demo`: the server on SQLite, the demo hub, and a compressed day of visitors and residents.

Everything goes through the real interfaces: the hub is registered over REST, the stations speak
OCPP over WebSockets, drivers declare their needs over REST, and the planner shares 250 kW live.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import uvicorn
from rich.console import Console
from rich.live import Live
from rich.table import Table

from evhub.app import create_app
from evhub.auth.passwords import generate_api_key, generate_password
from evhub.clock import AcceleratedClock
from evhub.demo.cars import CarStats, CarTrips, plan_day, register_fleet
from evhub.demo.hub import Hub, book, register_hub, shopping_centre_layout, sim_stations
from evhub.ocpp.endpoint import leave_app
from evhub.serving import StoppingServer, uvicorn_options
from evhub.settings import Settings
from evhub.sim import generate_day, run_day
from evhub.sim.scenario import ScenarioEvent
from evhub.sim.telematics import SimulatedTelematics

PARIS = ZoneInfo("Europe/Paris")
DEMO_USER = "demo"


@dataclass
class DemoSummary:
    sessions: int = 0
    bookings: int = 0
    turned_away: int = 0
    energy_kwh: float = 0.0
    peak_kw: float = 0.0
    grid_limit_kw: float = 0.0
    cars: CarStats | None = None  # the shared cars, when the demo drives them


class Driver:
    """Tells the planner what each arriving driver wants, as the driver app would."""

    def __init__(self, http: httpx.AsyncClient, summary: DemoSummary) -> None:
        self.http = http
        self.summary = summary

    async def __call__(self, event: ScenarioEvent) -> None:
        if event.kind == "turned_away":
            self.summary.turned_away += 1
            return
        if event.kind != "arrived" or event.transaction_id is None:
            return
        self.summary.sessions += 1
        r = await self.http.get(
            "/api/v1/transactions", params={"station_id": event.station_id, "state": "active"}
        )
        tx = next((t for t in r.json() if t["ocpp_transaction_id"] == event.transaction_id), None)
        if tx is not None:
            body = {
                "energy_kwh": round(event.session.energy_kwh, 1),
                "departure": event.session.departure.isoformat(),
            }
            await self.http.put(f"/api/v1/transactions/{tx['id']}/need", json=body)


async def _status(
    http: httpx.AsyncClient, hub: Hub, clock: AcceleratedClock, summary: DemoSummary
) -> Table:
    stations = (await http.get("/api/v1/stations", params={"site_id": hub.site_id})).json()
    active = (
        await http.get("/api/v1/transactions", params={"state": "active", "limit": 500})
    ).json()
    plan = (await http.get(f"/api/v1/sites/{hub.site_id}/plan")).json()
    measured = sum((t["power_last_w"] or 0) for t in active) / 1000
    summary.peak_kw = max(summary.peak_kw, measured)
    summary.grid_limit_kw = plan["grid_limit_kw"]
    table = Table(
        title=f"evhub demo · {clock.now().astimezone(PARIS):%a %H:%M} (Paris)", show_header=False
    )
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("stations connected", f"{sum(s['online'] for s in stations)} / {len(stations)}")
    table.add_row("active sessions", str(len(active)))
    table.add_row("site power (measured)", f"{measured:6.1f} kW of {plan['grid_limit_kw']:.0f} kW")
    table.add_row("plan", f"{plan['algorithm']} {plan['status']}, {plan['solve_ms']:.0f} ms")
    table.add_row("sessions so far / turned away", f"{summary.sessions} / {summary.turned_away}")
    table.add_row("spots booked", str(summary.bookings))
    table.add_row("peak so far", f"{summary.peak_kw:6.1f} kW")
    if summary.cars is not None:
        cars = summary.cars
        table.add_row("shared cars: trips / booked", f"{cars.trips} / {cars.bookings}")
        table.add_row("shared cars charged at the hub", str(cars.charged))
    return table


async def drive_hub(
    base_url: str, clock: AcceleratedClock, start: datetime, hours: float, seed: int,
    console: Console, ac_points: int = 20, dc_points: int = 4, api_key: str | None = None,
    units: SimulatedTelematics | None = None,
) -> DemoSummary:  # fmt: skip
    """Register the hub on the server at `base_url` (with an admin API key), then play a day
    of drivers against it; with the server's telematics `units`, shared cars too."""
    summary = DemoSummary()
    ws_base = base_url.replace("http", "ws", 1) + "/ocpp"
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    async with httpx.AsyncClient(base_url=base_url, timeout=30, headers=headers) as http:
        hub = await register_hub(http, layout=shopping_centre_layout(ac_points, dc_points))
        stations = sim_stations(hub, ws_base, clock)
        await asyncio.gather(*(st.start() for st in stations))
        day = start.astimezone(PARIS).date()
        sessions = generate_day(day, hub.tokens, visitors=100, residents=16, seed=seed, tz=PARIS)
        # Residents book their night; one visitor in four books a spot for the afternoon.
        booking = [s for n, s in enumerate(sessions) if s.kind == "resident" or n % 4 == 0]
        booked = await book(http, hub, booking)
        summary.bookings = len(booked)
        until = start + timedelta(hours=hours)
        fleet = None if units is None else await register_fleet(http, hub.site_id, ws_base, clock)
        runs: list[asyncio.Task[object]] = [asyncio.create_task(
            run_day(stations, clock, sessions, Driver(http, summary), until, booked)
        )]  # fmt: skip
        if fleet is not None and units is not None:
            summary.cars = fleet.stats
            trips = CarTrips(http, clock, units, fleet)
            runs.append(asyncio.create_task(trips.run(plan_day(seed), hours)))
        try:
            with Live(console=console, refresh_per_second=2) as screen:
                while not all(run.done() for run in runs):
                    screen.update(await _status(http, hub, clock, summary))
                    await asyncio.wait(runs, timeout=1.0)
            for run in runs:
                await run
            params: dict[str, str | int] = {"state": "ended", "limit": 5000}
            ended = (await http.get("/api/v1/transactions", params=params)).json()
            summary.energy_kwh = sum(t["energy_wh"] for t in ended) / 1000
        finally:
            for run in runs:
                if not run.done():
                    run.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await run
            chargers = [*stations, *([fleet.charger] if fleet else [])]
            await asyncio.gather(*(st.stop() for st in chargers), return_exceptions=True)
    return summary


def _morning(days_ahead: int = 0) -> datetime:
    day = datetime.now(PARIS).date() + timedelta(days=days_ahead)
    return datetime.combine(day, time(8), tzinfo=PARIS).astimezone(UTC)


async def run_demo(
    settings: Settings, speed: float = 144.0, hours: float = 24.0, seed: int = 7,
    console: Console | None = None,
) -> DemoSummary:  # fmt: skip
    """The server (on the settings' database) and the hub, on one accelerated clock."""
    console = console or Console()
    start = _morning()
    clock = AcceleratedClock(start, speed)
    # The demo registers its hub as an admin would: with a key made for this run.
    api_key = settings.bootstrap_admin_key or generate_api_key()
    settings = settings.model_copy(update={"bootstrap_admin_key": api_key})
    app = create_app(settings, clock)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        **uvicorn_options(settings),
    )
    server = StoppingServer(
        config, lambda: leave_app(app), young_threshold=settings.gc_young_threshold
    )
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if serving.done():
                serving.result()
                raise RuntimeError("the server stopped during start-up")
            await asyncio.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        base = f"http://{settings.host}:{port}"
        password = await _console_user(base, api_key)
        console.print(
            f"console: {base}/  (user [bold]{DEMO_USER}[/bold], password [bold]{password}[/bold])"
            f"   API docs: {base}/docs   admin API key: {api_key}"
        )
        units: SimulatedTelematics = app.state.vehicle_control  # in the server's process
        return await drive_hub(base, clock, start, hours, seed, console, api_key=api_key,
                               units=units)  # fmt: skip
    finally:
        server.should_exit = True
        await serving


async def _console_user(base_url: str, api_key: str) -> str:
    """A console login for whoever watches the demo; returns its new password."""
    password = generate_password()
    headers = {"Authorization": f"Bearer {api_key}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as http:
        body = {"name": DEMO_USER, "password": password, "role": "admin"}
        r = await http.post("/api/v1/users", json=body)
        if r.status_code == 409:  # the demo's database is fresh, but a given one may not be
            users = (await http.get("/api/v1/users")).json()
            user_id = next(u["id"] for u in users if u["name"] == DEMO_USER)
            r = await http.patch(f"/api/v1/users/{user_id}", json={"password": password})
        r.raise_for_status()
    return password


async def run_sim(
    base_url: str, speed: float, hours: float, ac_points: int, dc_points: int, seed: int,
    api_key: str | None = None,
) -> DemoSummary:  # fmt: skip
    """Drive a running server. At a speed above 1 the stations' clocks run ahead of the
    server's: fine for load and protocol checks, not for judging the planner."""
    start = datetime.now(UTC)
    clock = AcceleratedClock(start, speed)
    return await drive_hub(base_url.rstrip("/"), clock, start, hours, seed, Console(),
                           ac_points, dc_points, api_key)  # fmt: skip


def fresh_demo_database(var_dir: Path) -> str:
    """A new SQLite file for each demo run, so the day starts from an empty hub."""
    path = var_dir / "demo.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite+aiosqlite:///{path}"
