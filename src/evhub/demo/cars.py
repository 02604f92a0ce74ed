"""Shared cars at the demo hub, booked and driven by simulated residents and visitors.

Everything goes through the real interfaces: the fleet, its members and their bookings over
REST, the trips started and ended over REST with the server's simulated telematics units
driving the cars, and an electric car returned with a low charge plugged in at the hub's fleet
charger, which speaks OCPP like every station and is planned for the car's next booking.
"""

from __future__ import annotations

import heapq
import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from evhub.clock import Clock
from evhub.demo.hub import PASSWORD
from evhub.sim import SimEV, SimEvse, SimStation
from evhub.sim.telematics import SimulatedTelematics

log = logging.getLogger("evhub.demo")
CHARGER = "FLEET-01"  # the hub's charger kept for the shared cars (22 kW AC)
CARS: tuple[dict[str, Any], ...] = (
    {"plate": "GE-101-ZO", "make": "Renault", "model": "Zoe", "propulsion": "electric",
     "battery_kwh": 52, "range_km": 300, "seats": 5, "token": "FLEET-ZOE"},
    {"plate": "GE-102-PE", "make": "Peugeot", "model": "e-208", "propulsion": "electric",
     "battery_kwh": 50, "range_km": 340, "seats": 5, "token": "FLEET-E208"},
    {"plate": "GE-103-DA", "make": "Dacia", "model": "Jogger", "propulsion": "combustion",
     "tank_l": 50, "range_km": 800, "seats": 7, "token": None},
)  # fmt: skip
MEMBERS = (("Résidente Alix", "resident"), ("Résident Bastien", "resident"),
           ("Visiteuse Chloé", "visitor"), ("Visiteur Dario", "visitor"))  # fmt: skip


@dataclass(frozen=True)
class TripPlan:
    """A booking and what its driver does with it: hours from the demo's start."""

    member: int  # index in MEMBERS
    car: int  # index in CARS
    start_h: float
    hours: float
    km: float
    late_min: float  # returned this long after the booking's end (below 0: early)


# A day of the hub: the Zoe out for a long morning and back late and low, charged for the
# afternoon; the e-208 for errands; the Jogger for a family day out.
DAY = (
    TripPlan(0, 0, 0.25, 1.0, 220.0, 20.0), TripPlan(2, 2, 0.5, 3.0, 140.0, -5.0),
    TripPlan(1, 1, 1.0, 1.5, 35.0, 0.0), TripPlan(3, 0, 5.0, 2.0, 90.0, 5.0),
    TripPlan(2, 1, 6.0, 3.0, 160.0, 30.0), TripPlan(0, 2, 9.0, 2.0, 60.0, -10.0),
    TripPlan(1, 0, 11.0, 4.0, 120.0, 0.0),
)  # fmt: skip


def plan_day(seed: int) -> list[TripPlan]:
    """The day's trips, their distances and lateness varied a little by `seed`."""
    rng = random.Random(seed)
    return [
        TripPlan(t.member, t.car, t.start_h, t.hours, round(t.km * rng.uniform(0.85, 1.1), 1),
                 t.late_min + rng.uniform(-3.0, 3.0))
        for t in DAY
    ]  # fmt: skip


@dataclass
class CarStats:
    bookings: int = 0
    trips: int = 0
    refused: int = 0
    charged: int = 0  # returns plugged in at the fleet charger


@dataclass
class Fleet:
    site_id: int
    vehicle_ids: list[int]
    members: list[int]
    charger: SimStation
    plugged: int | None = None  # the car on the charger
    ev: SimEV | None = None
    stats: CarStats = field(default_factory=CarStats)


async def register_fleet(
    http: httpx.AsyncClient, site_id: int, ws_base: str, clock: Clock
) -> Fleet:
    """The fleet charger, the cars with their charging tokens, the members with a licence."""
    evse = {"evse_id": 1, "current_type": "AC", "phases": 3, "max_power_kw": 22.0,
            "standard": "IEC62196Type2"}  # fmt: skip
    station = {"id": CHARGER, "site_id": site_id, "password": PASSWORD, "evses": [evse]}
    await _call(http, "POST", "/api/v1/stations", station)
    vehicles = []
    for spec in CARS:
        body = {k: v for k, v in spec.items() if k != "token"} | {"home_site_id": site_id}
        car = await _call(http, "POST", "/api/v1/fleet/vehicles", body)
        if spec["token"]:
            await _call(http, "POST", "/api/v1/tokens", {"uid": spec["token"]})
            await _call(http, "PATCH", f"/api/v1/fleet/vehicles/{car['id']}",
                        {"charging_token_uid": spec["token"]})  # fmt: skip
        vehicles.append(int(car["id"]))
    members = []
    expires = (clock.now() + timedelta(days=3 * 365)).date().isoformat()
    for n, (name, group) in enumerate(MEMBERS):
        driver = await _call(http, "POST", "/api/v1/drivers", {"name": name, "user_group": group})
        licence = {"driver_id": driver["id"], "licence_number": f"DEMO{n + 1:05d}",
                   "licence_expires_on": expires}  # fmt: skip
        await _call(http, "PUT", "/api/v1/carsharing/members", licence)
        members.append(int(driver["id"]))
    charger = SimStation(CHARGER, PASSWORD, "2.0.1", ws_base, [SimEvse(1, max_kw=22.0)],
                         vendor="evhub-sim", model="AC22", clock=clock)  # fmt: skip
    await charger.start()
    return Fleet(site_id, vehicles, members, charger)


class CarTrips:
    """Books the day's trips at the start, then starts and ends each on the clock."""

    def __init__(
        self, http: httpx.AsyncClient, clock: Clock, units: SimulatedTelematics, fleet: Fleet
    ) -> None:
        self.http, self.clock, self.units, self.fleet = http, clock, units, fleet

    async def run(self, trips: list[TripPlan], hours: float) -> CarStats:
        """A day of `hours` from now (the hub's registration takes its time on a fast clock);
        a car still out at its end is brought back then."""
        start = self.clock.now()
        until = start + timedelta(hours=hours)
        queue: list[tuple[datetime, int, str, int, TripPlan]] = []
        for n, trip in enumerate(trips):
            booking = await self._book(trip, start)
            if booking is not None:
                begins = start + timedelta(hours=trip.start_h) + timedelta(minutes=1)
                queue.append((begins, n, "start", booking, trip))
        heapq.heapify(queue)
        while queue:
            at, n, action, booking, trip = heapq.heappop(queue)
            if at > until:
                if action == "start":
                    continue
                at = until
            wait_s = (at - self.clock.now()).total_seconds()
            if wait_s > 0:
                await self.clock.sleep(wait_s)
            if action == "start" and await self._start(booking, trip):
                ends = start + timedelta(hours=trip.start_h + trip.hours, minutes=trip.late_min)
                heapq.heappush(queue, (ends, n, "end", booking, trip))
            elif action == "end":
                await self._end(booking, trip)
        return self.fleet.stats

    async def _book(self, trip: TripPlan, start: datetime) -> int | None:
        starts = start + timedelta(hours=trip.start_h)
        body = {
            "driver_id": self.fleet.members[trip.member],
            "vehicle_id": self.fleet.vehicle_ids[trip.car],
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=trip.hours)).isoformat(),
            "planned_km": trip.km,
        }
        r = await self.http.post("/api/v1/carsharing/bookings", json=body)
        if r.status_code != 201:
            self.fleet.stats.refused += 1
            log.info("event=demo_car_booking_refused status=%s detail=%s", r.status_code, r.text)
            return None
        self.fleet.stats.bookings += 1
        return int(r.json()["id"])

    async def _start(self, booking: int, trip: TripPlan) -> bool:
        """The driver reports the car's condition and unlocks it (off the charger first)."""
        vehicle_id = self.fleet.vehicle_ids[trip.car]
        if self.fleet.plugged == vehicle_id:
            await self._unplug()
        report = {"phase": "before", "damage": "none", "cleanliness": "5"}
        r = await self.http.post(f"/api/v1/carsharing/bookings/{booking}/reports", data=report)
        if r.status_code == 201:
            r = await self.http.post(f"/api/v1/carsharing/bookings/{booking}/start")
        if r.status_code != 200:
            log.info("event=demo_trip_refused booking=%s detail=%s", booking, r.text)
            return False
        return True

    async def _end(self, booking: int, trip: TripPlan) -> None:
        """Drive the trip's kilometres, lock the car at the hub; plug it in if it is low."""
        vehicle_id = self.fleet.vehicle_ids[trip.car]
        (await self.units.car(vehicle_id)).drive(trip.km)
        r = await self.http.post(f"/api/v1/carsharing/bookings/{booking}/end")
        if r.status_code != 200:
            log.info("event=demo_trip_not_ended booking=%s detail=%s", booking, r.text)
            return
        self.fleet.stats.trips += 1
        vehicle = (await self.http.get(f"/api/v1/fleet/vehicles/{vehicle_id}")).json()
        if vehicle["state"] == "charging" and self.fleet.plugged is None:
            await self._plug_in(vehicle_id, vehicle)

    async def _plug_in(self, vehicle_id: int, vehicle: dict[str, Any]) -> None:
        car = await self.units.car(vehicle_id)
        ev = SimEV(battery_kwh=float(vehicle["battery_kwh"]), soc=car.level_pct / 100,
                   max_ac_kw=11.0, name=vehicle["plate"])  # fmt: skip
        token = next(c["token"] for c in CARS if c["plate"] == vehicle["plate"])
        await self.fleet.charger.plug_in(1, ev, token)
        car.plugged_in = True
        self.fleet.plugged, self.fleet.ev = vehicle_id, ev
        self.fleet.stats.charged += 1

    async def _unplug(self) -> None:
        """The car leaves the charger with what it took (one battery, seen by its unit)."""
        assert self.fleet.plugged is not None and self.fleet.ev is not None
        await self.fleet.charger.unplug(1)
        car = await self.units.car(self.fleet.plugged)
        car.level_pct, car.plugged_in = self.fleet.ev.soc * 100, False
        self.fleet.plugged = self.fleet.ev = None


async def _call(http: httpx.AsyncClient, method: str, path: str, body: object) -> dict[str, Any]:
    r = await http.request(method, path, json=body)
    if r.status_code >= 400:
        raise RuntimeError(f"{method} {path}: {r.status_code} {r.text}")
    return dict(r.json())
