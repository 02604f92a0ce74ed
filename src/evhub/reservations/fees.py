"""The fees recorded on bookings (no-show, overstay, late cancellation), for billing to price.

Reservations decide that a fee applies and record its rule on the booking; billing owns the
amounts. This is the read billing makes of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.reservations.models import Booking
from evhub.reservations.state import FeeRule


@dataclass(frozen=True)
class RecordedFee:
    booking_id: int
    driver_id: int
    rule: FeeRule
    at: datetime  # when the rule was recorded (the booking's last change: it is closed then)
    idle_minutes: int


async def recorded_fees(
    session: AsyncSession, until: datetime, driver_id: int | None = None
) -> list[RecordedFee]:
    """The fees recorded before `until`, of one driver or all, oldest first."""
    query = select(Booking).where(Booking.fee_rule.is_not(None), Booking.updated_at < until)
    if driver_id is not None:
        query = query.where(Booking.driver_id == driver_id)
    rows = await session.scalars(query.order_by(Booking.updated_at, Booking.id))
    return [
        RecordedFee(b.id, b.driver_id, FeeRule(b.fee_rule), b.updated_at, b.idle_minutes)
        for b in rows
        if b.fee_rule is not None
    ]
