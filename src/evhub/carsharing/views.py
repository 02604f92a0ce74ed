"""Read-side views of the fleet for people: each car's charge against its next booking, the
bookings of a window, the latest trips with what they cost, damage reports with their photos,
and one driver's bookings. Plain queries; the rules stay in the modules that write."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts.models import Driver
from evhub.carsharing import fleet, readiness, reports
from evhub.carsharing.models import (
    CarBooking,
    CarBookingFee,
    ConditionReport,
    FleetVehicle,
    ReportPhoto,
    Trip,
)
from evhub.carsharing.policy import CarsharingPolicy
from evhub.carsharing.service import next_trip_booking
from evhub.carsharing.state import HOLDING, Propulsion


@dataclass(frozen=True)
class CarReadiness:
    """A car and how its charge stands against its next driver booking.

    `status`: `ready` (it holds the energy now), `charging` (it can have it by the start at
    the hub's power), `short` (it cannot), `free` (no booking to come), `fuel` (a combustion
    car, refuelled on the way)."""

    vehicle: FleetVehicle
    range_km: float
    next_booking: CarBooking | None
    need_kwh: float | None
    held_kwh: float | None
    status: str


@dataclass(frozen=True)
class BookingRow:
    booking: CarBooking
    vehicle: FleetVehicle
    driver_name: str


@dataclass(frozen=True)
class TripRow:
    trip: Trip
    vehicle: FleetVehicle
    driver_name: str
    fees: list[CarBookingFee]

    @property
    def total(self) -> Decimal:
        return sum((Decimal(f.amount) for f in self.fees), Decimal(0))

    @property
    def distance_km(self) -> float | None:
        if self.trip.end_odometer_km is None:
            return None
        return round(self.trip.end_odometer_km - self.trip.start_odometer_km, 1)


@dataclass(frozen=True)
class DamageRow:
    report: ConditionReport
    vehicle: FleetVehicle
    photos: list[ReportPhoto] = field(default_factory=list)


async def fleet_readiness(
    session: AsyncSession, site_id: int | None, now: datetime, policy: CarsharingPolicy
) -> list[CarReadiness]:
    """Every car of the hub (or of all hubs) with its charge against its next booking."""
    out = []
    for vehicle in await fleet.list_vehicles(session, site_id):
        booking = await next_trip_booking(session, vehicle.id, now)
        range_km = round(fleet.current_range_km(vehicle), 1)
        if vehicle.propulsion != Propulsion.ELECTRIC:
            out.append(CarReadiness(vehicle, range_km, booking, None, None, "fuel"))
            continue
        held = round(readiness.energy_now_kwh(vehicle), 1)
        if booking is None:
            out.append(CarReadiness(vehicle, range_km, None, None, held, "free"))
            continue
        km = readiness.booking_km(booking, policy)
        need = readiness.energy_for_km(vehicle, km, policy.energy_margin)
        if held >= need:
            status = "ready"
        elif await readiness.can_be_ready(session, vehicle, booking.starts_at, km, now, policy):
            status = "charging"
        else:
            status = "short"
        out.append(CarReadiness(vehicle, range_km, booking, round(need, 1), held, status))
    return out


async def bookings_between(
    session: AsyncSession, start: datetime, end: datetime, site_id: int | None = None
) -> list[BookingRow]:
    """Bookings and maintenance blocks that hold a car at some time in [start, end)."""
    query = (
        select(CarBooking, FleetVehicle, Driver.name)
        .join(FleetVehicle, FleetVehicle.id == CarBooking.vehicle_id)
        .outerjoin(Driver, Driver.id == CarBooking.driver_id)
        .where(
            CarBooking.state.in_(HOLDING),
            CarBooking.starts_at < end,
            CarBooking.ends_at > start,
        )
        .order_by(CarBooking.starts_at, CarBooking.id)
    )
    if site_id is not None:
        query = query.where(FleetVehicle.home_site_id == site_id)
    rows = await session.execute(query)
    return [BookingRow(b, v, name or "") for b, v, name in rows]


async def latest_trips(
    session: AsyncSession, site_id: int | None = None, limit: int = 20
) -> list[TripRow]:
    """The latest trips, newest first, each with its fee lines (time, distance, fees)."""
    query = (
        select(Trip, FleetVehicle, Driver.name)
        .join(FleetVehicle, FleetVehicle.id == Trip.vehicle_id)
        .join(Driver, Driver.id == Trip.driver_id)
        .order_by(Trip.started_at.desc(), Trip.id.desc())
        .limit(limit)
    )
    if site_id is not None:
        query = query.where(FleetVehicle.home_site_id == site_id)
    rows = list(await session.execute(query))
    fees = await _fees_by_booking(session, [t.booking_id for t, _, _ in rows])
    return [TripRow(t, v, name, fees.get(t.booking_id, [])) for t, v, name in rows]


async def damage_reports(
    session: AsyncSession, site_id: int | None = None, limit: int = 20
) -> list[DamageRow]:
    """The latest reports that saw a damage, newest first, with their photos."""
    query = (
        select(ConditionReport, FleetVehicle)
        .join(FleetVehicle, FleetVehicle.id == ConditionReport.vehicle_id)
        .where(ConditionReport.damage != "none")
        .order_by(ConditionReport.created_at.desc(), ConditionReport.id.desc())
        .limit(limit)
    )
    if site_id is not None:
        query = query.where(FleetVehicle.home_site_id == site_id)
    rows = list(await session.execute(query))
    photos: dict[int, list[ReportPhoto]] = {}
    for p in await reports.photos_of(session, [r.id for r, _ in rows]):
        photos.setdefault(p.report_id, []).append(p)
    return [DamageRow(r, v, photos.get(r.id, [])) for r, v in rows]


async def bookings_of_driver(
    session: AsyncSession, driver_id: int, limit: int = 20
) -> list[BookingRow]:
    """The driver's bookings, the latest start first."""
    query = (
        select(CarBooking, FleetVehicle, Driver.name)
        .join(FleetVehicle, FleetVehicle.id == CarBooking.vehicle_id)
        .join(Driver, Driver.id == CarBooking.driver_id)
        .where(CarBooking.driver_id == driver_id)
        .order_by(CarBooking.starts_at.desc(), CarBooking.id.desc())
        .limit(limit)
    )
    return [BookingRow(b, v, name) for b, v, name in await session.execute(query)]


async def charges_of(session: AsyncSession, booking_id: int) -> list[CarBookingFee]:
    """Every fee line of the booking: the trip's time and distance, then its fees."""
    return (await _fees_by_booking(session, [booking_id])).get(booking_id, [])


async def _fees_by_booking(
    session: AsyncSession, booking_ids: Sequence[int]
) -> dict[int, list[CarBookingFee]]:
    if not booking_ids:
        return {}
    query = (
        select(CarBookingFee)
        .where(CarBookingFee.booking_id.in_(list(booking_ids)))
        .order_by(CarBookingFee.id)
    )
    out: dict[int, list[CarBookingFee]] = {}
    for fee in (await session.execute(query)).scalars():
        out.setdefault(fee.booking_id, []).append(fee)
    return out
