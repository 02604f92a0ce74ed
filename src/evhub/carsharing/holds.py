"""Holding a car for an interval: the one write that must never double-book.

Every booking and block is written through `hold`; the database refuses an overlap of a car's
bookings, or of a driver's trip bookings (exclusion constraints on PostgreSQL, triggers on
SQLite), and the loser gets CarUnavailable.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.carsharing.errors import CarUnavailable
from evhub.carsharing.models import CarBooking
from evhub.carsharing.state import HOLDING


async def hold(session: AsyncSession, booking: CarBooking) -> None:
    """Add the booking; CarUnavailable when another holds its car for an overlapping interval.

    PostgreSQL: in a savepoint, which the exclusion constraint makes fail. SQLite: its one
    pooled connection serialises this process's writers, so the check holds until commit, and
    the triggers stop other processes."""
    if session.get_bind().dialect.name != "postgresql":
        with session.no_autoflush:
            other = await session.execute(
                holding(booking.starts_at, booking.ends_at)
                .where(CarBooking.vehicle_id == booking.vehicle_id)
                .limit(1)
            )
        if other.first() is not None:
            raise _unavailable(booking)
        session.add(booking)
        try:
            await session.flush()
        except IntegrityError as exc:
            _refuse(booking, exc)
            raise
        return
    try:
        async with session.begin_nested():
            session.add(booking)
            await session.flush()
    except IntegrityError as exc:
        _refuse(booking, exc)
        raise


def holding(starts_at: datetime, ends_at: datetime) -> Select[CarBooking]:
    return select(CarBooking).where(
        CarBooking.state.in_(HOLDING),
        CarBooking.starts_at < ends_at,
        CarBooking.ends_at > starts_at,
    )


def _unavailable(booking: CarBooking) -> CarUnavailable:
    return CarUnavailable(
        f"vehicle {booking.vehicle_id} is already booked or blocked for an overlapping interval",
        vehicle_id=booking.vehicle_id,
    )


def _refuse(booking: CarBooking, exc: IntegrityError) -> None:
    """CarUnavailable for an overlap of the car's or the driver's bookings (other integrity
    errors are left to the caller)."""
    text = str(exc.orig)
    if "ex_car_bookings_driver_interval" in text or "same driver" in text:
        raise CarUnavailable(
            f"driver {booking.driver_id} already holds a car booking for an overlapping time",
            driver_id=booking.driver_id,
            reason="driver_overlap",
        ) from exc
    if "ex_car_bookings_vehicle_interval" in text or "car booking overlaps" in text:
        raise _unavailable(booking) from exc
