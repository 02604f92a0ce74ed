"""Trips: start and end a booking's use of the car through the VehicleControl port.

A car is never commanded inside a database transaction (like `reservations.charger`): the
rules are checked in one transaction, the car is unlocked or locked, then its reading is
written in another that checks again. An unlocked car whose trip could not be recorded is
locked back.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.assets import service as assets
from evhub.carsharing import bookings, fleet, members, reports
from evhub.carsharing.control import TelematicsUnavailable, VehicleControl, VehicleReading
from evhub.carsharing.errors import CarDamaged, NotAtHub, TooEarlyOrLate
from evhub.carsharing.fees import USAGE_KINDS, late_return_fee, usage_lines
from evhub.carsharing.models import CarBooking, CarBookingFee, FleetVehicle, Trip
from evhub.carsharing.policy import CarsharingPolicy
from evhub.carsharing.state import (
    BookingKind,
    CarBookingState,
    Propulsion,
    VehicleState,
    check_booking_move,
    check_vehicle_move,
)
from evhub.clock import Clock
from evhub.errors import InvalidInput, NotFound
from evhub.events import emit
from evhub.uow import UnitOfWork

log = logging.getLogger("evhub.carsharing")
EARTH_RADIUS_M = 6_371_000.0


async def start_trip(
    uow: UnitOfWork,
    control: VehicleControl,
    clock: Clock,
    policy: CarsharingPolicy,
    booking_id: int,
) -> Trip:
    async with uow() as session:
        booking = await bookings.get_booking(session, booking_id)
        await _check_startable(session, booking, clock.now(), policy)
        vehicle_id = booking.vehicle_id
    await control.unlock(vehicle_id)
    try:
        reading = await control.read_state(vehicle_id)
        async with uow() as session:
            return await _record_start(session, booking_id, reading, clock.now(), policy)
    except BaseException:
        await _lock_back(uow, control, booking_id, vehicle_id)
        raise


async def end_trip(
    uow: UnitOfWork,
    control: VehicleControl,
    clock: Clock,
    policy: CarsharingPolicy,
    booking_id: int,
) -> Trip:
    """Lock the car at its hub and close the trip: readings, late fee, the car's next state,
    and `carsharing.vehicle_returned` for the charging planner."""
    async with uow() as session:
        booking = await bookings.get_booking(session, booking_id)
        if booking.state != CarBookingState.IN_TRIP:
            raise TooEarlyOrLate(f"booking {booking_id} is {booking.state}, not in a trip")
        vehicle = await fleet.get_vehicle(session, booking.vehicle_id)
        site = await assets.get_site(session, vehicle.home_site_id)
        hub = (site.latitude, site.longitude)
    before = await control.read_state(booking.vehicle_id)
    if not at_hub(before, hub, policy.hub_radius_m):
        raise NotAtHub(f"vehicle {vehicle.id} is not back at its hub (site {site.id})")
    await control.lock(booking.vehicle_id)
    reading = await control.read_state(booking.vehicle_id)
    if not reading.doors_locked:
        raise TelematicsUnavailable(f"vehicle {vehicle.id} reports its doors still open")
    async with uow() as session:
        return await _record_end(session, booking_id, reading, clock.now(), policy)


async def get_trip(session: AsyncSession, booking_id: int) -> Trip:
    trip = (
        await session.execute(select(Trip).where(Trip.booking_id == booking_id))
    ).scalar_one_or_none()
    if trip is None:
        raise NotFound(f"car booking {booking_id} has no trip")
    return trip


async def fees_of(session: AsyncSession, booking_id: int) -> list[CarBookingFee]:
    """The booking's fees (late return, ...), beside the time and distance every trip costs."""
    query = select(CarBookingFee).where(
        CarBookingFee.booking_id == booking_id, CarBookingFee.kind.not_in(USAGE_KINDS)
    )
    return list((await session.execute(query.order_by(CarBookingFee.id))).scalars())


async def _check_startable(
    session: AsyncSession, booking: CarBooking, now: datetime, policy: CarsharingPolicy
) -> FleetVehicle:
    if booking.kind != BookingKind.TRIP or booking.driver_id is None:
        raise InvalidInput(f"booking {booking.id} is a maintenance block")
    check_booking_move(booking.state, CarBookingState.IN_TRIP)
    if now < booking.starts_at - policy.early_start:
        raise TooEarlyOrLate(f"booking {booking.id} starts at {booking.starts_at.isoformat()}")
    if now >= booking.ends_at:
        raise TooEarlyOrLate(f"booking {booking.id} ended at {booking.ends_at.isoformat()}")
    await members.check_may_book(session, booking.driver_id, now.date())
    vehicle = await fleet.get_vehicle(session, booking.vehicle_id)
    if vehicle.state == VehicleState.DAMAGED:
        raise CarDamaged(f"vehicle {vehicle.id} is damaged", vehicle_id=vehicle.id)
    check_vehicle_move(vehicle.state, VehicleState.IN_TRIP)
    if fleet.inspection_due(vehicle, now.date()):
        raise TooEarlyOrLate(f"vehicle {vehicle.id} is past its inspection date")
    if not any(r.phase == "before" for r in await reports.reports_of(session, booking.id)):
        raise TooEarlyOrLate("a damage and cleanliness report comes before the start")
    return vehicle


async def _record_start(
    session: AsyncSession,
    booking_id: int,
    reading: VehicleReading,
    now: datetime,
    policy: CarsharingPolicy,
) -> Trip:
    booking = await bookings.get_booking(session, booking_id, lock=True)
    vehicle = await _check_startable(session, booking, now, policy)
    assert booking.driver_id is not None
    await members.verify_before_first_trip(session, booking.driver_id, now)
    vehicle = await fleet.get_vehicle(session, vehicle.id, lock=True)
    fleet.record_reading(vehicle, reading)
    fleet.set_state(session, vehicle, VehicleState.IN_TRIP, now, f"booking {booking.id}")
    booking.state, booking.updated_at = CarBookingState.IN_TRIP, now
    trip = Trip(
        booking_id=booking.id,
        vehicle_id=vehicle.id,
        driver_id=booking.driver_id,
        started_at=now,
        start_odometer_km=reading.odometer_km,
        start_soc_pct=reading.soc_pct,
        start_fuel_pct=reading.fuel_pct,
        start_latitude=reading.latitude,
        start_longitude=reading.longitude,
    )
    session.add(trip)
    await session.flush()
    emit(session, "carsharing.trip_started", now, **bookings.summary(booking), trip_id=trip.id,
         odometer_km=reading.odometer_km, level_pct=reading.level_pct)  # fmt: skip
    return trip


async def _record_end(
    session: AsyncSession,
    booking_id: int,
    reading: VehicleReading,
    now: datetime,
    policy: CarsharingPolicy,
) -> Trip:
    booking = await bookings.get_booking(session, booking_id, lock=True)
    check_booking_move(booking.state, CarBookingState.COMPLETED)
    trip = await get_trip(session, booking_id)
    vehicle = await fleet.get_vehicle(session, booking.vehicle_id, lock=True)
    trip.ended_at, trip.end_odometer_km = now, reading.odometer_km
    trip.end_soc_pct, trip.end_fuel_pct = reading.soc_pct, reading.fuel_pct
    trip.end_latitude, trip.end_longitude = reading.latitude, reading.longitude
    booking.state, booking.updated_at = CarBookingState.COMPLETED, now
    fee = late_return_fee(policy.late_fee, booking.ends_at, now)
    distance_km = reading.odometer_km - trip.start_odometer_km
    usage = usage_lines(policy.price_per_hour, policy.price_per_km, policy.late_fee.currency,
                        trip.started_at, now, distance_km, policy.daily_cap)  # fmt: skip
    for line in [*usage, *([fee] if fee else [])]:
        session.add(
            CarBookingFee(
                booking_id=booking.id, kind=line.kind, description=line.description,
                quantity=line.quantity, amount=line.amount, currency=line.currency,
                vat_rate=policy.vat_rate, created_at=now,
            )
        )  # fmt: skip
    fleet.record_reading(vehicle, reading)
    fleet.rotate_public_id(vehicle)
    low = (
        vehicle.propulsion == Propulsion.ELECTRIC
        and reading.soc_pct is not None
        and reading.soc_pct < policy.low_soc_pct
    )
    if vehicle.state == VehicleState.IN_TRIP:  # a damage reported in the trip keeps it damaged
        target = VehicleState.CHARGING if low else VehicleState.AVAILABLE
        fleet.set_state(session, vehicle, target, now, f"returned, booking {booking.id}")
    await session.flush()
    distance = reading.odometer_km - trip.start_odometer_km
    emit(session, "carsharing.trip_ended", now, **bookings.summary(booking), trip_id=trip.id,
         distance_km=round(distance, 3), late_minutes=fee.quantity if fee else 0,
         fees=[{"kind": fee.kind, "amount": str(fee.amount), "currency": fee.currency}]
         if fee else [])  # fmt: skip
    await vehicle_returned(session, vehicle, reading, now)
    return trip


async def vehicle_returned(
    session: AsyncSession, vehicle: FleetVehicle, reading: VehicleReading, now: datetime
) -> dict[str, object]:
    """`carsharing.vehicle_returned`: what the charging planner needs of a returned car, its
    state of charge and when it is next wanted."""
    next_start = await bookings.next_booking_start(session, vehicle.id, now)
    data: dict[str, object] = {
        "vehicle_id": vehicle.id,
        "site_id": vehicle.home_site_id,
        "state": vehicle.state,
        "propulsion": vehicle.propulsion,
        "battery_kwh": vehicle.battery_kwh,
        "soc_pct": reading.soc_pct,
        "fuel_pct": reading.fuel_pct,
        "range_km": round(fleet.current_range_km(vehicle), 1),
        "plugged_in": reading.plugged_in,
        "next_booking_starts_at": next_start.isoformat() if next_start else None,
    }
    emit(session, "carsharing.vehicle_returned", now, **data)
    return data


def at_hub(
    reading: VehicleReading, hub: tuple[float | None, float | None], radius_m: float
) -> bool:
    """Within `radius_m` of the hub (a hub with no coordinates takes any position)."""
    lat, lon = hub
    if lat is None or lon is None:
        return True
    return distance_m(reading.latitude, reading.longitude, lat, lon) <= radius_m


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


async def _lock_back(
    uow: UnitOfWork, control: VehicleControl, booking_id: int, vehicle_id: int
) -> None:
    """Lock a car unlocked for a trip that was not recorded, unless a concurrent start of the
    same booking won (its driver is in the car)."""
    try:
        async with uow() as session:
            booking = await bookings.get_booking(session, booking_id)
        if booking.state == CarBookingState.IN_TRIP:
            return
        await control.lock(vehicle_id)
    except Exception:  # the original error is the one to report
        log.exception("event=lock_back_failed vehicle=%s", vehicle_id)
