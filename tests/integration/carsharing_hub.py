"""A live car-sharing hub: a stopped clock, a hub with coordinates, cars, member drivers, and
an operator client acting on the drivers' behalf."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from evhub.sim.telematics import SimulatedCar, SimulatedTelematics
from tests.integration.live_server import LiveServer, run_server
from tests.integration.reservations_hub import NOW, StoppedClock

HUB = (48.8566, 2.3522)
# A tiny file that starts like a PNG, which is all the server looks at.
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
ZOE = {
    "plate": "GE-123-ZO",
    "make": "Renault",
    "model": "Zoe",
    "propulsion": "electric",
    "battery_kwh": 52,
    "range_km": 300,
    "seats": 5,
}
RIFTER = {
    "plate": "FR-456-RI",
    "make": "Peugeot",
    "model": "Rifter",
    "propulsion": "combustion",
    "tank_l": 50,
    "range_km": 700,
    "seats": 7,
}

__all__ = ["NOW", "StoppedClock", "CarHub", "car_hub"]
# The operator's legal identity, for a hub that invoices its drivers.
INVOICING = {
    "invoice_company_name": "Hubs de Paris SAS",
    "invoice_company_siren": "732829320",
    "invoice_company_vat_number": "FR44732829320",
    "invoice_company_address": "9 quai de Seine",
    "invoice_company_postcode": "75019",
    "invoice_company_city": "Paris",
}


@dataclass
class CarHub:
    server: LiveServer
    clock: StoppedClock
    operator: httpx.AsyncClient
    site_id: int

    @property
    def telematics(self) -> SimulatedTelematics:
        unit: SimulatedTelematics = self.server.app.state.vehicle_control
        return unit

    async def car(self, vehicle_id: int) -> SimulatedCar:
        return await self.telematics.car(vehicle_id)

    async def add_vehicle(self, body: dict[str, Any], **extra: Any) -> dict[str, Any]:
        r = await self.server.http.post(
            "/api/v1/fleet/vehicles", json=body | {"home_site_id": self.site_id} | extra
        )
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def add_member(self, name: str) -> int:
        r = await self.server.http.post("/api/v1/drivers", json={"name": name})
        assert r.status_code == 201, r.text
        driver_id = int(r.json()["id"])
        licence = {
            "driver_id": driver_id,
            "licence_number": f"L-{name}",
            "licence_expires_on": "2031-05-01",
        }
        r = await self.server.http.put("/api/v1/carsharing/members", json=licence)
        assert r.status_code == 200, r.text
        return driver_id

    async def book(
        self, driver_id: int, vehicle_id: int, ends_at: datetime, starts_at: datetime | None = None
    ) -> httpx.Response:
        body: dict[str, Any] = {
            "driver_id": driver_id, "vehicle_id": vehicle_id, "ends_at": ends_at.isoformat(),
        }  # fmt: skip
        if starts_at is not None:
            body["starts_at"] = starts_at.isoformat()
        return await self.operator.post("/api/v1/carsharing/bookings", json=body)

    async def shared_ev(self, plate: str, token: str) -> int:
        """An electric car of the hub that charges there with its own token."""
        car = await self.add_vehicle(ZOE | {"plate": plate})
        await self.server.add_token(token)
        r = await self.server.http.patch(
            f"/api/v1/fleet/vehicles/{car['id']}", json={"charging_token_uid": token}
        )
        assert r.status_code == 200 and r.json()["charging_token_uid"] == token, r.text
        return int(car["id"])

    async def planned(self, source: str) -> dict[str, Any]:
        """The hub's first planned session once its need comes from `source` (the planner
        runs asynchronously; a loaded machine may take a while)."""
        async with asyncio.timeout(15):
            while True:
                r = await self.server.http.get(f"/api/v1/sites/{self.site_id}/plan")
                plan = r.json()
                if plan["sessions"] and plan["sessions"][0]["need_source"] == source:
                    return dict(plan["sessions"][0])
                await asyncio.sleep(0.05)

    async def report(
        self, booking_id: int, damage: str = "none", photos: int = 1
    ) -> httpx.Response:
        files = [("photos", (f"side{i}.png", PNG + bytes([i]), "image/png")) for i in range(photos)]
        data = {"phase": "before", "damage": damage, "cleanliness": "4", "note": "clean"}
        return await self.operator.post(
            f"/api/v1/carsharing/bookings/{booking_id}/reports", data=data, files=files or None
        )


@asynccontextmanager
async def car_hub(database_url: str, clock: StoppedClock, **settings: Any) -> AsyncIterator[CarHub]:
    """The server with its timers slowed down: tests run the car-sharing pass themselves."""
    async with run_server(
        database_url,
        clock=clock,
        reservation_period_s=3600,
        plan_interval_s=3600,
        carsharing_period_s=3600,
        **settings,
    ) as live:
        site = await live.add_site(latitude=HUB[0], longitude=HUB[1], address="9 quai de Seine")
        operator = await live.client("operator")
        yield CarHub(live, clock, operator, site)


def fresh_clock() -> StoppedClock:
    return StoppedClock(NOW)
