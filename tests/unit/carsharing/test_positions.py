"""The fleet map's positions: a car at its unit's latest reading, at its hub while it has
none, and its next booking beside it."""

from __future__ import annotations

from datetime import timedelta

from evhub.assets import service as assets
from evhub.carsharing import bookings, fleet, positions, reports, trips
from evhub.carsharing.bookings import CarRequest
from evhub.carsharing.fleet import VehicleSpec
from evhub.carsharing.positions import CarPosition
from evhub.carsharing.reports import ReportIn
from evhub.carsharing.wiring import simulated_telematics
from evhub.clock import FrozenClock
from tests.unit.carsharing.conftest import COMBUSTION, NOW, POLICY, Fleet, _at

H = timedelta(hours=1)
HUB = (48.8566, 2.3522)
# A bay at the edge of the hub, about 220 m north: within the radius a trip may end in.
BAY = (48.8586, 2.3522)


async def _by_id(cars: Fleet, site_id: int | None = None) -> dict[int, CarPosition]:
    async with cars.uow() as s:
        return {p.vehicle_id: p for p in await positions.fleet_positions(s, site_id, NOW)}


async def test_a_car_never_read_stands_at_its_hub(cars: Fleet) -> None:
    found = await _by_id(cars)
    ev = found[cars.ev_id]
    assert (ev.lat, ev.lon, ev.source, ev.reported_at) == (*HUB, "hub", None)
    assert (ev.plate, ev.state, ev.site_id) == ("EV-001-AA", "available", cars.site_id)
    assert (ev.soc, ev.fuel, ev.range_km) == (100.0, None, 300.0)
    assert (found[cars.van_id].soc, found[cars.van_id].fuel) == (None, 100.0)


async def test_a_driven_car_stands_where_its_unit_last_read_it(cars: Fleet) -> None:
    clock = FrozenClock(NOW)
    unit = simulated_telematics(cars.uow, clock)
    async with cars.uow() as s:
        booking = await bookings.book(s, CarRequest(cars.ada, cars.ev_id, NOW + 2 * H), NOW, POLICY)
        await reports.add_report(s, booking.id, ReportIn("before", "none", 4), [], NOW)
    clock.current = NOW + timedelta(minutes=1)
    await trips.start_trip(cars.uow, unit, clock, POLICY, booking.id)
    (await unit.car(cars.ev_id)).drive(60.0, to=BAY)
    clock.current = NOW + H
    await trips.end_trip(cars.uow, unit, clock, POLICY, booking.id)
    ev = (await _by_id(cars))[cars.ev_id]
    assert (ev.lat, ev.lon, ev.source, ev.reported_at) == (*BAY, "telematics", NOW + H)
    assert (ev.soc, ev.range_km) == (80.0, 240.0)  # 60 km of a 300 km range


async def test_a_hub_placed_after_its_car_joined_carries_the_car_along(cars: Fleet) -> None:
    async with cars.uow() as s:
        spec = VehicleSpec(**{**COMBUSTION.__dict__, "plate": "VN-003-CC"})
        car = await fleet.create_vehicle(s, _at(spec, cars.other_site_id), NOW)
    assert (await _by_id(cars, cars.other_site_id))[car.id].source == "unknown"
    async with cars.uow() as s:
        site = await assets.get_site(s, cars.other_site_id)
        site.latitude, site.longitude = 48.8443, 2.3744
    moved = (await _by_id(cars, cars.other_site_id))[car.id]
    assert (moved.lat, moved.lon, moved.source) == (48.8443, 2.3744, "hub")


async def test_each_car_shows_its_next_booking_not_yet_started(cars: Fleet) -> None:
    async with cars.uow() as s:
        later = CarRequest(cars.bo, cars.ev_id, NOW + 6 * H, starts_at=NOW + 4 * H)
        sooner = CarRequest(cars.ada, cars.ev_id, NOW + 3 * H, starts_at=NOW + 2 * H)
        await bookings.book(s, later, NOW, POLICY)
        first = await bookings.book(s, sooner, NOW, POLICY)
    found = await _by_id(cars)
    ev = found[cars.ev_id]
    assert (ev.next_booking_id, ev.next_booking_starts_at) == (first.id, NOW + 2 * H)
    assert found[cars.van_id].next_booking_id is None
    assert set(await _by_id(cars, cars.other_site_id)) == set()
