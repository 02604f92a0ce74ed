"""Car bookings: search free cars, book (scheduled or immediate), cancel, maintenance blocks,
quotas, and the no-show close-out.

No double booking, ever: see `evhub.carsharing.holds`. The checks made before a hold only give
better answers; the database has the last word. One car per driver at a time is held by the
database too (migration 0022); the quota per period is held by serialising each driver's
bookings: a PostgreSQL advisory lock per driver, taken before any check; on SQLite the single
pooled connection makes every writer wait for the one before it.

An electric car must be able to have the range for the booking's distance by its start; when
it cannot, the booking goes to another car of the hub that can, or is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.assets import service as assets
from evhub.carsharing import fleet, members, readiness
from evhub.carsharing.errors import CarUnavailable, QuotaReached, RangeUnavailable
from evhub.carsharing.fees import CENT
from evhub.carsharing.holds import hold, holding
from evhub.carsharing.models import CarBooking, CarBookingFee, FleetVehicle
from evhub.carsharing.policy import CarsharingPolicy
from evhub.carsharing.quotas import period_bounds
from evhub.carsharing.state import (
    OFF_FLEET,
    BookingKind,
    CarBookingState,
    VehicleState,
    check_booking_move,
)
from evhub.errors import InvalidInput, NotFound
from evhub.events import emit

PAST_TOLERANCE = timedelta(minutes=1)
# The first key of PostgreSQL's two-key advisory locks that holds one driver's car bookings.
_DRIVER_LOCKS = 0x6373  # "cs"


@dataclass(frozen=True)
class CarSearch:
    site_id: int
    starts_at: datetime
    ends_at: datetime
    propulsion: str | None = None
    min_seats: int | None = None


@dataclass(frozen=True)
class CarRequest:
    driver_id: int
    vehicle_id: int
    ends_at: datetime
    starts_at: datetime | None = None  # None: immediate use, from now
    planned_km: float | None = None  # None: the policy's default distance


async def search(session: AsyncSession, query: CarSearch, now: datetime) -> list[FleetVehicle]:
    """Cars of the hub free for the whole window, matching the type asked for, in service and
    inspected; the most charged first."""
    _check_times(query.starts_at, query.ends_at)
    await assets.get_site(session, query.site_id)
    busy = holding(query.starts_at, query.ends_at).with_only_columns(CarBooking.vehicle_id)
    statement = select(FleetVehicle).where(
        FleetVehicle.home_site_id == query.site_id,
        FleetVehicle.state.not_in(list(OFF_FLEET)),
        FleetVehicle.id.not_in(busy),
    )
    if query.starts_at <= now:  # immediate use: the car must be there now
        statement = statement.where(FleetVehicle.state != VehicleState.IN_TRIP)
    if query.propulsion is not None:
        statement = statement.where(FleetVehicle.propulsion == query.propulsion)
    if query.min_seats is not None:
        statement = statement.where(FleetVehicle.seats >= query.min_seats)
    cars = list((await session.execute(statement.order_by(FleetVehicle.id))).scalars())
    cars = [c for c in cars if not fleet.inspection_due(c, query.ends_at.date())]
    return sorted(cars, key=lambda c: -fleet.current_range_km(c))


async def book(
    session: AsyncSession, request: CarRequest, now: datetime, policy: CarsharingPolicy
) -> CarBooking:
    """Book a car for a driver; CarUnavailable (409) when it is taken for the window."""
    starts = request.starts_at or now
    immediate = starts <= now + policy.early_start
    _check_window(starts, request.ends_at, now, policy)
    await _serialise_driver(session, request.driver_id)
    await members.check_may_book(session, request.driver_id, request.ends_at.date())
    vehicle = await fleet.get_vehicle(session, request.vehicle_id)
    _check_bookable(vehicle, request.ends_at, immediate)
    await _check_driver_free(session, request.driver_id, starts, request.ends_at)
    site = await assets.get_site(session, vehicle.home_site_id)
    await _check_quota(session, request.driver_id, starts, site.timezone, policy)
    km = request.planned_km if request.planned_km is not None else policy.default_trip_km
    vehicle, note = await _car_with_range(session, vehicle, starts, request.ends_at, km, now,
                                          policy, immediate)  # fmt: skip
    booking = CarBooking(
        vehicle_id=vehicle.id,
        driver_id=request.driver_id,
        kind=BookingKind.TRIP,
        state=CarBookingState.BOOKED,
        starts_at=starts,
        ends_at=request.ends_at,
        note=note,
        planned_km=request.planned_km,
        created_at=now,
        updated_at=now,
    )
    await hold(session, booking)
    if immediate and vehicle.state != VehicleState.BOOKED:
        fleet.set_state(session, vehicle, VehicleState.BOOKED, now, f"booking {booking.id}")
    emit(session, "carsharing.booked", now, **summary(booking), immediate=immediate,
         asked_vehicle_id=request.vehicle_id)  # fmt: skip
    return booking


async def _serialise_driver(session: AsyncSession, driver_id: int) -> None:
    """PostgreSQL: one driver's bookings are written one at a time, so the quota and the
    one-car rule are checked against everything committed before (one lock per transaction,
    so no order to keep). SQLite needs nothing: its writers already wait for each other."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:space, :driver)"),
            {"space": _DRIVER_LOCKS, "driver": driver_id},
        )


async def _car_with_range(
    session: AsyncSession,
    asked: FleetVehicle,
    starts: datetime,
    ends: datetime,
    km: float,
    now: datetime,
    policy: CarsharingPolicy,
    immediate: bool,
) -> tuple[FleetVehicle, str]:
    """The car asked for if it can have the range by the start, else another car of the
    same hub and kind that can (and is free), else RangeUnavailable (409)."""
    if await readiness.can_be_ready(session, asked, starts, km, now, policy):
        return asked, ""
    query = CarSearch(asked.home_site_id, starts, ends, propulsion=asked.propulsion,
                      min_seats=asked.seats)  # fmt: skip
    for other in await search(session, query, now):
        if other.id == asked.id:
            continue
        try:
            _check_bookable(other, ends, immediate)
        except CarUnavailable:
            continue
        if await readiness.can_be_ready(session, other, starts, km, now, policy):
            return other, f"moved from vehicle {asked.id}: it cannot have the range in time"
    raise RangeUnavailable(
        f"no car of hub {asked.home_site_id} can have the range for {km:g} km "
        f"by {starts.isoformat()}",
        vehicle_id=asked.id,
        planned_km=km,
        reason="range",
    )


async def block(
    session: AsyncSession,
    vehicle_id: int,
    starts_at: datetime,
    ends_at: datetime,
    note: str,
    now: datetime,
) -> CarBooking:
    """A maintenance block: keeps the car off bookings for the interval, like a booking."""
    _check_times(starts_at, ends_at)
    vehicle = await fleet.get_vehicle(session, vehicle_id)
    booking = CarBooking(
        vehicle_id=vehicle.id,
        driver_id=None,
        kind=BookingKind.MAINTENANCE,
        state=CarBookingState.BOOKED,
        starts_at=starts_at,
        ends_at=ends_at,
        note=note[:255],
        created_at=now,
        updated_at=now,
    )
    await hold(session, booking)
    emit(session, "carsharing.blocked", now, **summary(booking))
    return booking


async def get_booking(session: AsyncSession, booking_id: int, lock: bool = False) -> CarBooking:
    query = select(CarBooking).where(CarBooking.id == booking_id)
    if lock:
        query = query.with_for_update()
    booking = (await session.execute(query)).scalar_one_or_none()
    if booking is None:
        raise NotFound(f"car booking {booking_id} not found")
    return booking


async def list_bookings(
    session: AsyncSession,
    vehicle_id: int | None = None,
    driver_id: int | None = None,
    states: Sequence[str] = (),
    limit: int = 500,
) -> list[CarBooking]:
    query = select(CarBooking)
    if vehicle_id is not None:
        query = query.where(CarBooking.vehicle_id == vehicle_id)
    if driver_id is not None:
        query = query.where(CarBooking.driver_id == driver_id)
    if states:
        query = query.where(CarBooking.state.in_(list(states)))
    query = query.order_by(CarBooking.starts_at, CarBooking.id).limit(limit)
    return list((await session.execute(query)).scalars())


async def cancel(
    session: AsyncSession, booking_id: int, now: datetime, by: str, note: str = ""
) -> CarBooking:
    """Cancel a booking or a block that has not started; the car it held is free again."""
    booking = await get_booking(session, booking_id, lock=True)
    check_booking_move(booking.state, CarBookingState.CANCELLED)
    booking.state, booking.cancelled_at, booking.updated_at = CarBookingState.CANCELLED, now, now
    booking.note = note[:255] or booking.note
    await _release_car(session, booking, now)
    emit(session, "carsharing.cancelled", now, by=by, **summary(booking))
    return booking


async def sweep_no_shows(
    session: AsyncSession, now: datetime, policy: CarsharingPolicy
) -> list[int]:
    """Close out the driver bookings not started within the grace period: no_show, and its
    fee line (for the driver's invoice) when the policy sets one."""
    query = (
        select(CarBooking)
        .where(
            CarBooking.kind == BookingKind.TRIP,
            CarBooking.state == CarBookingState.BOOKED,
            CarBooking.starts_at < now - policy.no_show_grace,
        )
        .order_by(CarBooking.id)
        .with_for_update()
    )
    closed = []
    for booking in (await session.execute(query)).scalars():
        check_booking_move(booking.state, CarBookingState.NO_SHOW)
        booking.state, booking.updated_at = CarBookingState.NO_SHOW, now
        await _release_car(session, booking, now)
        fee, fees = _no_show_fee(booking, now, policy), []
        if fee is not None:
            session.add(fee)
            fees.append({"kind": fee.kind, "amount": str(fee.amount), "currency": fee.currency})
        emit(session, "carsharing.no_show", now, **summary(booking), fees=fees)
        closed.append(booking.id)
    return closed


def _no_show_fee(
    booking: CarBooking, now: datetime, policy: CarsharingPolicy
) -> CarBookingFee | None:
    if policy.no_show_fee <= 0:
        return None
    return CarBookingFee(
        booking_id=booking.id, kind="no_show", description="no-show", quantity=1,
        amount=policy.no_show_fee.quantize(CENT, ROUND_HALF_UP),
        currency=policy.late_fee.currency, vat_rate=policy.vat_rate, created_at=now,
    )  # fmt: skip


async def mark_due(session: AsyncSession, now: datetime, policy: CarsharingPolicy) -> list[int]:
    """Cars whose booking's window has come are `booked`: kept for their driver."""
    query = (
        select(FleetVehicle)
        .join(CarBooking, CarBooking.vehicle_id == FleetVehicle.id)
        .where(
            CarBooking.kind == BookingKind.TRIP,
            CarBooking.state == CarBookingState.BOOKED,
            CarBooking.starts_at <= now + policy.early_start,
            CarBooking.ends_at > now,
            FleetVehicle.state.in_([VehicleState.AVAILABLE, VehicleState.CHARGING]),
        )
        .with_for_update()
    )
    marked = []
    for vehicle in (await session.execute(query)).scalars().unique():
        fleet.set_state(session, vehicle, VehicleState.BOOKED, now, "booking due")
        marked.append(vehicle.id)
    return marked


async def next_booking_start(
    session: AsyncSession, vehicle_id: int, after: datetime
) -> datetime | None:
    """When the car is next wanted (a driver's booking or a block), for charging plans."""
    query = (
        select(CarBooking.starts_at)
        .where(
            CarBooking.vehicle_id == vehicle_id,
            CarBooking.state == CarBookingState.BOOKED,
            CarBooking.starts_at >= after,
        )
        .order_by(CarBooking.starts_at)
        .limit(1)
    )
    found: datetime | None = (await session.execute(query)).scalar_one_or_none()
    return found


async def _release_car(session: AsyncSession, booking: CarBooking, now: datetime) -> None:
    """A car kept for a booking that will not run is available again."""
    if booking.kind != BookingKind.TRIP:
        return
    vehicle = await fleet.get_vehicle(session, booking.vehicle_id, lock=True)
    if vehicle.state == VehicleState.BOOKED:
        fleet.set_state(session, vehicle, VehicleState.AVAILABLE, now, f"booking {booking.id}")


def _check_bookable(vehicle: FleetVehicle, ends_at: datetime, immediate: bool) -> None:
    if vehicle.state in OFF_FLEET:
        raise CarUnavailable(f"vehicle {vehicle.id} is {vehicle.state}", vehicle_id=vehicle.id)
    if fleet.inspection_due(vehicle, ends_at.date()):
        raise CarUnavailable(
            f"vehicle {vehicle.id} is due for inspection on {vehicle.next_inspection_on}",
            vehicle_id=vehicle.id,
        )
    if immediate and vehicle.state not in (VehicleState.AVAILABLE, VehicleState.CHARGING):
        raise CarUnavailable(f"vehicle {vehicle.id} is {vehicle.state}", vehicle_id=vehicle.id)


async def _check_driver_free(
    session: AsyncSession, driver_id: int, starts_at: datetime, ends_at: datetime
) -> None:
    query = holding(starts_at, ends_at).where(CarBooking.driver_id == driver_id)
    other = (await session.execute(query.limit(1))).scalar_one_or_none()
    if other is not None:
        raise CarUnavailable(
            f"driver {driver_id} already holds car booking {other.id} for an overlapping time",
            booking_id=other.id,
            reason="driver_overlap",
        )


async def _check_quota(
    session: AsyncSession,
    driver_id: int,
    starts_at: datetime,
    timezone: str,
    policy: CarsharingPolicy,
) -> None:
    """At most `quota_bookings` bookings starting in the period (hub's local calendar);
    cancelled ones do not count."""
    begin, end = period_bounds(starts_at, policy.quota_period, timezone)
    query = select(func.count(CarBooking.id)).where(
        CarBooking.driver_id == driver_id,
        CarBooking.state != CarBookingState.CANCELLED,
        CarBooking.starts_at >= begin,
        CarBooking.starts_at < end,
    )
    count = (await session.execute(query)).scalar_one()
    if count >= policy.quota_bookings:
        raise QuotaReached(
            f"driver {driver_id} has {count} bookings this {policy.quota_period} "
            f"(at most {policy.quota_bookings})",
            period=policy.quota_period,
            quota=policy.quota_bookings,
            reason="quota",
        )


def _check_window(
    starts_at: datetime, ends_at: datetime, now: datetime, policy: CarsharingPolicy
) -> None:
    _check_times(starts_at, ends_at)
    if starts_at < now - PAST_TOLERANCE:
        raise InvalidInput("the booking starts in the past")
    if ends_at - starts_at < policy.min_booking:
        raise InvalidInput(f"a booking lasts at least {policy.min_booking}")
    if ends_at - starts_at > policy.max_booking:
        raise InvalidInput(f"a booking lasts at most {policy.max_booking}")


def _check_times(starts_at: datetime, ends_at: datetime) -> None:
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise InvalidInput("times need a time zone offset")
    if ends_at <= starts_at:
        raise InvalidInput("the interval must end after it starts")


def summary(booking: CarBooking) -> dict[str, object]:
    return {
        "booking_id": booking.id,
        "vehicle_id": booking.vehicle_id,
        "driver_id": booking.driver_id,
        "booking_kind": booking.kind,
        "state": booking.state,
        "starts_at": booking.starts_at.isoformat(),
        "ends_at": booking.ends_at.isoformat(),
    }
