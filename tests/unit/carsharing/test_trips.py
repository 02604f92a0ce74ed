"""Trips through the VehicleControl port with the simulated telematics unit: unlock, drive,
lock; readings on the trip; a report before the start; the car's state after its return."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from decimal import Decimal

import pytest

from evhub.carsharing import bookings, fleet, reports, trips
from evhub.carsharing.bookings import CarRequest
from evhub.carsharing.control import TelematicsUnavailable
from evhub.carsharing.errors import CarDamaged, NotAtHub, TooEarlyOrLate
from evhub.carsharing.models import Trip
from evhub.carsharing.reports import ReportIn
from evhub.carsharing.state import CarBookingState, VehicleState
from evhub.carsharing.wiring import simulated_telematics
from evhub.clock import FrozenClock
from evhub.errors import Conflict
from evhub.sim.telematics import SimulatedCar, SimulatedTelematics
from tests.unit.carsharing.conftest import NOW, POLICY, Fleet

H = timedelta(hours=1)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def unit(cars: Fleet, clock: FrozenClock) -> SimulatedTelematics:
    return simulated_telematics(cars.uow, clock)


async def booked(cars: Fleet, vehicle_id: int, hours: float = 2, report: str = "none") -> int:
    async with cars.uow() as s:
        request = CarRequest(cars.ada, vehicle_id, NOW + timedelta(hours=hours))
        booking = await bookings.book(s, request, NOW, POLICY)
    if report:
        async with cars.uow() as s:
            await reports.add_report(s, booking.id, ReportIn("before", report, 4), [], NOW)
    return booking.id


async def test_a_trip_unlocks_reads_and_locks_the_car(
    cars: Fleet, unit: SimulatedTelematics, clock: FrozenClock
) -> None:
    booking_id = await booked(cars, cars.ev_id)
    trip = await trips.start_trip(cars.uow, unit, clock, POLICY, booking_id)
    car = await unit.car(cars.ev_id)
    assert not car.doors_locked
    assert (trip.start_odometer_km, trip.start_soc_pct, trip.start_fuel_pct) == (0.0, 100.0, None)
    car.drive(120.0)
    clock.current = NOW + 90 * timedelta(minutes=1)
    trip = await trips.end_trip(cars.uow, unit, clock, POLICY, booking_id)
    assert car.doors_locked
    assert trip.end_odometer_km == 120.0
    assert trip.end_soc_pct == 60.0  # 120 km of a 300 km range
    async with cars.uow() as s:
        vehicle = await fleet.get_vehicle(s, cars.ev_id)
        booking = await bookings.get_booking(s, booking_id)
        assert await trips.fees_of(s, booking_id) == []  # on time
    assert vehicle.state == VehicleState.AVAILABLE  # 60 % is not low
    assert booking.state == CarBookingState.COMPLETED
    assert (vehicle.odometer_km, vehicle.soc_pct) == (120.0, 60.0)


async def test_a_combustion_car_uses_fuel_and_returns_available(
    cars: Fleet, unit: SimulatedTelematics, clock: FrozenClock
) -> None:
    booking_id = await booked(cars, cars.van_id)
    await trips.start_trip(cars.uow, unit, clock, POLICY, booking_id)
    (await unit.car(cars.van_id)).drive(560.0)
    trip = await trips.end_trip(cars.uow, unit, clock, POLICY, booking_id)
    assert (trip.end_fuel_pct, trip.end_soc_pct) == (20.0, None)
    async with cars.uow() as s:
        assert (await fleet.get_vehicle(s, cars.van_id)).state == VehicleState.AVAILABLE


async def test_a_car_returned_low_charges_and_tells_the_planner(
    cars: Fleet, unit: SimulatedTelematics, clock: FrozenClock
) -> None:
    booking_id = await booked(cars, cars.ev_id)
    async with cars.uow() as s:  # the next driver's booking, later that day
        await bookings.book(
            s, CarRequest(cars.bo, cars.ev_id, NOW + 8 * H, NOW + 6 * H), NOW, POLICY
        )
    await trips.start_trip(cars.uow, unit, clock, POLICY, booking_id)
    (await unit.car(cars.ev_id)).drive(240.0)
    clock.current = NOW + 3 * H  # an hour late
    await cars.published()
    await trips.end_trip(cars.uow, unit, clock, POLICY, booking_id)
    events = {e.kind: e.data for e in await cars.published()}
    returned = events["carsharing.vehicle_returned"]
    assert returned["soc_pct"] == 20.0
    assert returned["state"] == VehicleState.CHARGING
    assert returned["next_booking_starts_at"] == (NOW + 6 * H).isoformat()
    assert returned["range_km"] == 60.0
    assert events["carsharing.trip_ended"]["late_minutes"] == 60
    async with cars.uow() as s:
        (fee,) = await trips.fees_of(s, booking_id)
    assert fee.amount == POLICY.late_fee.base + 60 * POLICY.late_fee.per_minute
    assert fee.amount == Decimal("45.00") and fee.currency == "EUR"


async def test_the_report_comes_before_the_start(
    cars: Fleet, unit: SimulatedTelematics, clock: FrozenClock
) -> None:
    booking_id = await booked(cars, cars.ev_id, report="")
    with pytest.raises(TooEarlyOrLate, match="report"):
        await trips.start_trip(cars.uow, unit, clock, POLICY, booking_id)
    assert (await unit.car(cars.ev_id)).doors_locked


async def test_a_major_damage_seen_before_the_start_takes_the_car_off(
    cars: Fleet, unit: SimulatedTelematics, clock: FrozenClock
) -> None:
    booking_id = await booked(cars, cars.ev_id, report="major")
    with pytest.raises(CarDamaged):
        await trips.start_trip(cars.uow, unit, clock, POLICY, booking_id)
    async with cars.uow() as s:
        assert (await fleet.get_vehicle(s, cars.ev_id)).state == VehicleState.DAMAGED


async def test_a_trip_does_not_start_before_its_booking(
    cars: Fleet, unit: SimulatedTelematics, clock: FrozenClock
) -> None:
    async with cars.uow() as s:
        booking = await bookings.book(
            s, CarRequest(cars.ada, cars.ev_id, NOW + 3 * H, NOW + 2 * H), NOW, POLICY
        )
        await reports.add_report(s, booking.id, ReportIn("before", "none", 5), [], NOW)
    with pytest.raises(TooEarlyOrLate, match="starts at"):
        await trips.start_trip(cars.uow, unit, clock, POLICY, booking.id)
    clock.current = NOW + 2 * H - POLICY.early_start
    trip = await trips.start_trip(cars.uow, unit, clock, POLICY, booking.id)
    assert trip.started_at == clock.current


async def test_an_unreachable_car_starts_no_trip(
    cars: Fleet, unit: SimulatedTelematics, clock: FrozenClock
) -> None:
    booking_id = await booked(cars, cars.ev_id)
    unit.unreachable.add(cars.ev_id)
    with pytest.raises(TelematicsUnavailable):
        await trips.start_trip(cars.uow, unit, clock, POLICY, booking_id)
    async with cars.uow() as s:
        assert (await bookings.get_booking(s, booking_id)).state == CarBookingState.BOOKED


async def test_a_car_is_returned_at_its_hub(
    cars: Fleet, unit: SimulatedTelematics, clock: FrozenClock
) -> None:
    booking_id = await booked(cars, cars.ev_id)
    await trips.start_trip(cars.uow, unit, clock, POLICY, booking_id)
    car = await unit.car(cars.ev_id)
    car.drive(10.0, to=(48.8738, 2.2950))  # left at the Arc de Triomphe, 4 km away
    with pytest.raises(NotAtHub):
        await trips.end_trip(cars.uow, unit, clock, POLICY, booking_id)
    assert not car.doors_locked
    car.drive(4.0, to=(48.8567, 2.3523))
    trip = await trips.end_trip(cars.uow, unit, clock, POLICY, booking_id)
    assert trip.end_odometer_km == 14.0


async def test_the_licence_is_verified_once_before_the_first_trip(
    cars: Fleet, unit: SimulatedTelematics, clock: FrozenClock
) -> None:
    booking_id = await booked(cars, cars.ev_id)
    await cars.published()
    await trips.start_trip(cars.uow, unit, clock, POLICY, booking_id)
    await trips.end_trip(cars.uow, unit, clock, POLICY, booking_id)
    second = await booked(cars, cars.ev_id)
    await trips.start_trip(cars.uow, unit, clock, POLICY, second)
    kinds = [e.kind for e in await cars.published()]
    assert kinds.count("carsharing.member_verified") == 1
    assert kinds.count("carsharing.trip_started") == 2


def test_a_simulated_car_drives_at_its_rate_until_empty() -> None:
    car = SimulatedCar(True, 200.0, 1000.0, 50.0, 0.0, 0.0, doors_locked=False)
    car.drive(50.0)
    assert (car.odometer_km, car.level_pct) == (1050.0, 25.0)
    car.drive(80.0)  # only 50 km left
    assert (car.odometer_km, car.level_pct) == (1100.0, 0.0)
    car.doors_locked = True
    with pytest.raises(RuntimeError):
        car.drive(1.0)


async def test_two_starts_of_one_booking_make_one_trip_and_leave_the_car_open(
    cars: Fleet, unit: SimulatedTelematics, clock: FrozenClock
) -> None:
    booking_id = await booked(cars, cars.ev_id)
    results = await asyncio.gather(
        *(trips.start_trip(cars.uow, unit, clock, POLICY, booking_id) for _ in range(2)),
        return_exceptions=True,
    )
    started = [r for r in results if isinstance(r, Trip)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(started) == 1 and len(refused) == 1, results
    assert not (await unit.car(cars.ev_id)).doors_locked  # the winner's driver is inside


async def test_a_car_past_its_inspection_date_is_not_driven(
    cars: Fleet, unit: SimulatedTelematics, clock: FrozenClock
) -> None:
    async with cars.uow() as s:
        request = CarRequest(cars.ada, cars.ev_id, NOW + 30 * H, NOW + 24 * H)
        booking = await bookings.book(s, request, NOW, POLICY)
        await reports.add_report(s, booking.id, ReportIn("before", "none", 5), [], NOW)
        # The inspection date is moved earlier after the booking was made.
        await fleet.update_vehicle(s, cars.ev_id, {"next_inspection_on": NOW.date()}, NOW)
    clock.current = NOW + 24 * H
    with pytest.raises(TooEarlyOrLate, match="inspection"):
        await trips.start_trip(cars.uow, unit, clock, POLICY, booking.id)
    assert (await unit.car(cars.ev_id)).doors_locked


async def test_every_fact_of_a_trip_is_json_for_the_outbox(
    cars: Fleet, unit: SimulatedTelematics, clock: FrozenClock
) -> None:
    booking_id = await booked(cars, cars.ev_id)
    await trips.start_trip(cars.uow, unit, clock, POLICY, booking_id)
    clock.current = NOW + 4 * H
    await trips.end_trip(cars.uow, unit, clock, POLICY, booking_id)
    events = await cars.published()
    assert {"carsharing.booked", "carsharing.trip_started", "carsharing.trip_ended",
            "carsharing.vehicle_returned"} <= {e.kind for e in events}  # fmt: skip
    for event in events:
        assert json.loads(json.dumps(event.data)) == event.data
