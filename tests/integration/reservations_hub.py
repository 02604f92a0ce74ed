"""A live hub for reservation tests: a stopped clock, stations, drivers with tokens."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.integration.live_server import LiveServer, run_server

# Wednesday 25 November 2026, 09:00 in Paris.
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
START = NOW + timedelta(hours=1)
END = START + timedelta(hours=2)


@dataclass
class StoppedClock:
    """Time moves only when a test sets it; sleeping waits in wall time, so that loops
    sleeping on the clock do not push it forward."""

    current: datetime

    def now(self) -> datetime:
        return self.current

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@asynccontextmanager
async def hub_server(database_url: str, clock: StoppedClock) -> AsyncIterator[LiveServer]:
    """The server, with its timers slowed down: tests run the reservation pass themselves."""
    async with run_server(
        database_url, clock=clock, reservation_period_s=3600, plan_interval_s=3600
    ) as live:
        yield live


async def add_driver(server: LiveServer, name: str, group: str = "visitor", **token: Any) -> int:
    r = await server.http.post("/api/v1/drivers", json={"name": name, "user_group": group})
    assert r.status_code == 201, r.text
    driver_id = int(r.json()["id"])
    await server.add_token(f"{name.upper()}-1", driver_id=driver_id, **token)
    return driver_id


async def reservation_pass(server: LiveServer) -> None:
    await server.app.state.reservations.tick()


def booking_body(
    site_id: int, driver_id: int, start: datetime = START, end: datetime = END, **extra: Any
) -> dict[str, Any]:
    body = {
        "site_id": site_id,
        "driver_id": driver_id,
        "starts_at": start.isoformat(),
        "ends_at": end.isoformat(),
        "energy_kwh": 20.0,
    }
    return body | extra
