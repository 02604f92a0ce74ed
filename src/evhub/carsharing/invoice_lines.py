"""Car-sharing's lines on the driver's monthly invoice: each finished trip's time and distance,
then the fees of its booking (late return, cleaning, damage franchise), at the amounts recorded;
and the fee of a booking closed without a trip (no-show). A fee is dated when it was charged
(the late fee at the return, cleaning or a franchise when the operator charged it), so a fee
charged after the month's invoice goes on the next one.

`TripLines` is a line source of billing's invoices (`evhub.billing.lines.LineSource`). Billing
builds it with its own line type and its own record of what is invoiced, so car-sharing reads
nothing of billing. Each line is named by a reference unique within the source:
`trip:{trip_id}:time`, `trip:{trip_id}:distance`, `trip-fee:{trip_id}:{kind}` and, without a
trip, `booking-fee:{booking_id}:{kind}`, one fee of each kind per booking (migration 0025);
billing's unique (source, reference) bills each once, however runs overlap.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Generic, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.carsharing.fees import USAGE_KINDS
from evhub.carsharing.models import CarBooking, CarBookingFee, FleetVehicle, Trip

SOURCE = "carsharing"
UNITS = {"time": "min", "distance": "km", "late_return": "min"}  # any other fee: "unit"
PERCENT = Decimal("0.01")
Line = TypeVar("Line", covariant=True)


class LineFactory(Protocol[Line]):
    """What makes an invoice line (billing's `LineDraft`); amounts excl. VAT, VAT a percentage."""

    def __call__(
        self, *, source: str, source_ref: str, driver_id: int, at: datetime, description: str,
        quantity: Decimal, unit: str, amount_excl_vat: Decimal, vat_rate: Decimal, currency: str,
    ) -> Line: ...  # fmt: skip


# The references of a source already on an invoice.
Invoiced = Callable[[AsyncSession, str], Awaitable[Collection[str]]]


@dataclass(frozen=True)
class TripCharge:
    """One charge of a finished trip, named for the invoice."""

    ref: str
    kind: str  # time, distance, late_return, ...
    driver_id: int
    at: datetime  # the return; for a fee, when it was charged
    description: str
    quantity: int
    unit: str
    amount: Decimal  # excl. VAT
    vat_pct: Decimal
    currency: str


class TripLines(Generic[Line]):
    """Finished trips and their fees, as invoice lines not invoiced yet."""

    name = SOURCE

    def __init__(self, make_line: LineFactory[Line], invoiced: Invoiced) -> None:
        self.make_line, self.invoiced = make_line, invoiced

    async def lines(
        self, session: AsyncSession, until: datetime, driver_id: int | None
    ) -> list[Line]:
        """The lines of trips ended before `until` (of `driver_id`, or of every driver)."""
        billed = set(await self.invoiced(session, self.name))
        return [
            self.make_line(
                source=self.name,
                source_ref=c.ref,
                driver_id=c.driver_id,
                at=c.at,
                description=c.description,
                quantity=Decimal(c.quantity),
                unit=c.unit,
                amount_excl_vat=c.amount,
                vat_rate=c.vat_pct,
                currency=c.currency,
            )
            for c in await trip_charges(session, until, driver_id)
            if c.ref not in billed
        ]


async def trip_charges(
    session: AsyncSession, until: datetime, driver_id: int | None = None
) -> list[TripCharge]:
    """What the trips ended before `until` cost, in the order of their returns: each trip's
    time and distance, then its fees charged before `until`; and the fees of bookings without
    a trip recorded before `until`."""
    query = (
        select(CarBookingFee, Trip, FleetVehicle.plate)
        .join(Trip, Trip.booking_id == CarBookingFee.booking_id)
        .join(FleetVehicle, FleetVehicle.id == Trip.vehicle_id)
        .where(Trip.ended_at.is_not(None), Trip.ended_at < until)
        .where(CarBookingFee.created_at < until)
        .order_by(Trip.ended_at, Trip.id, CarBookingFee.id)
    )
    if driver_id is not None:
        query = query.where(Trip.driver_id == driver_id)
    charges = [_charge(fee, trip, plate) for fee, trip, plate in await session.execute(query)]
    charges += await _booking_fees(session, until, driver_id)
    return sorted(charges, key=lambda c: c.at)  # stable: a trip's lines stay in their order


async def _booking_fees(
    session: AsyncSession, until: datetime, driver_id: int | None
) -> list[TripCharge]:
    """Fees of bookings that never became a trip (a no-show)."""
    query = (
        select(CarBookingFee, CarBooking, FleetVehicle.plate)
        .join(CarBooking, CarBooking.id == CarBookingFee.booking_id)
        .join(FleetVehicle, FleetVehicle.id == CarBooking.vehicle_id)
        .outerjoin(Trip, Trip.booking_id == CarBooking.id)
        .where(Trip.id.is_(None), CarBooking.driver_id.is_not(None))
        .where(CarBookingFee.created_at < until)
        .order_by(CarBookingFee.created_at, CarBookingFee.id)
    )
    if driver_id is not None:
        query = query.where(CarBooking.driver_id == driver_id)
    out = []
    for fee, booking, plate in await session.execute(query):
        assert booking.driver_id is not None
        out.append(TripCharge(
            ref=f"booking-fee:{booking.id}:{fee.kind}", kind=fee.kind,
            driver_id=booking.driver_id, at=fee.created_at,
            description=f"Car-sharing {plate}, booking of {booking.starts_at:%Y-%m-%d %H:%M} "
            f"UTC: {fee.description}", quantity=fee.quantity, unit=UNITS.get(fee.kind, "unit"),
            amount=Decimal(fee.amount), vat_pct=_percent(fee.vat_rate), currency=fee.currency,
        ))  # fmt: skip
    return out


def _charge(fee: CarBookingFee, trip: Trip, plate: str) -> TripCharge:
    assert trip.ended_at is not None
    usage = fee.kind in USAGE_KINDS
    ref = f"trip:{trip.id}:{fee.kind}" if usage else f"trip-fee:{trip.id}:{fee.kind}"
    what = fee.description.removeprefix("car-sharing, ")
    description = f"Car-sharing {plate}, {trip.started_at:%Y-%m-%d %H:%M} UTC: {what}"
    return TripCharge(
        ref=ref, kind=fee.kind, driver_id=trip.driver_id,
        at=trip.ended_at if usage else fee.created_at,
        description=description[:255], quantity=fee.quantity, unit=UNITS.get(fee.kind, "unit"),
        amount=Decimal(fee.amount),
        vat_pct=_percent(fee.vat_rate), currency=fee.currency,
    )  # fmt: skip


def _percent(rate: Decimal | None) -> Decimal:
    """A stored VAT fraction (0.20) as the invoice's percentage (20.00)."""
    return (Decimal(rate or 0) * 100).quantize(PERCENT)
