"""Fees the operator charges on a returned trip: cleaning, at the fixed price, and a damage
franchise, at the amount stated for a damage the driver reported after the start.

One fee of each kind per booking, held by the database (migration 0025); the fee is written
with its `carsharing.fee_charged` event, and goes on the driver's next monthly invoice
(`evhub.carsharing.invoice_lines`), dated when it was charged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.carsharing import bookings
from evhub.carsharing.errors import TooEarlyOrLate
from evhub.carsharing.fees import FeeLine, cleaning_fee, damage_franchise
from evhub.carsharing.models import CarBooking, CarBookingFee, ConditionReport
from evhub.carsharing.policy import CarsharingPolicy
from evhub.carsharing.state import BookingKind, CarBookingState
from evhub.errors import Conflict, InvalidInput, NotFound
from evhub.events import emit


@dataclass(frozen=True)
class FeeRequest:
    booking_id: int
    kind: str  # fees.OPERATOR_KINDS
    reason: str
    amount: Decimal | None = None  # cleaning: the fixed price when left out
    report_id: int | None = None  # a damage franchise: the report of the damage


class FeeCharged(Conflict):
    """The booking already has a fee of that kind."""


async def charge_fee(
    session: AsyncSession, request: FeeRequest, now: datetime, policy: CarsharingPolicy
) -> CarBookingFee:
    """Charge the fee on the returned trip of the booking."""
    booking = await bookings.get_booking(session, request.booking_id, lock=True)
    _check_returned(booking)
    line = await _line(session, booking, request, policy)
    if await _has_fee(session, booking.id, line.kind):
        raise _charged(booking.id, line.kind)
    fee = CarBookingFee(
        booking_id=booking.id, kind=line.kind, description=line.description,
        quantity=line.quantity, amount=line.amount, currency=line.currency,
        vat_rate=policy.vat_rate, created_at=now,
    )  # fmt: skip
    session.add(fee)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent charge of the same kind won
        raise _charged(booking.id, line.kind) from exc
    emit(session, "carsharing.fee_charged", now, **bookings.summary(booking), fee_id=fee.id,
         fee_kind=fee.kind, amount=str(fee.amount), currency=fee.currency,
         report_id=request.report_id, description=fee.description)  # fmt: skip
    return fee


def _check_returned(booking: CarBooking) -> None:
    if booking.kind != BookingKind.TRIP or booking.driver_id is None:
        raise InvalidInput(f"booking {booking.id} is a maintenance block, not a trip")
    if booking.state != CarBookingState.COMPLETED:
        raise TooEarlyOrLate(
            f"booking {booking.id} is {booking.state}: fees are charged on a returned trip",
            state=booking.state,
        )


async def _line(
    session: AsyncSession, booking: CarBooking, request: FeeRequest, policy: CarsharingPolicy
) -> FeeLine:
    currency = policy.late_fee.currency
    if request.kind == "cleaning":
        return cleaning_fee(policy.cleaning_fee, currency, request.reason, request.amount)
    if request.kind == "damage_franchise":
        report = await _damage_report(session, booking, request.report_id)
        return damage_franchise(
            request.amount, policy.franchise_cap, currency, request.reason, report.id
        )
    raise InvalidInput(
        f"unknown fee kind {request.kind!r}", allowed=["cleaning", "damage_franchise"]
    )


async def _damage_report(
    session: AsyncSession, booking: CarBooking, report_id: int | None
) -> ConditionReport:
    """A franchise answers for a damage reported on this trip, after its start: a damage seen
    before the start was there before this driver took the car."""
    if report_id is None:
        raise InvalidInput("a damage franchise names the damage report of the trip (report_id)")
    report = await session.get(ConditionReport, report_id)
    if report is None or report.booking_id != booking.id:
        raise NotFound(f"booking {booking.id} has no condition report {report_id}")
    if report.phase != "after" or report.damage == "none":
        raise InvalidInput(
            f"report {report_id} reports no damage after the start "
            f"({report.phase} the trip, damage {report.damage})"
        )
    return report


async def _has_fee(session: AsyncSession, booking_id: int, kind: str) -> bool:
    query = select(CarBookingFee.id).where(
        CarBookingFee.booking_id == booking_id, CarBookingFee.kind == kind
    )
    return (await session.scalar(query)) is not None


def _charged(booking_id: int, kind: str) -> FeeCharged:
    return FeeCharged(f"booking {booking_id} already has a {kind.replace('_', ' ')} fee", kind=kind)
