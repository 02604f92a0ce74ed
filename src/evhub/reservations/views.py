"""Read-side views of bookings: planning's declared needs, event payloads, EVSE places."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.assets.models import Evse, Station
from evhub.reservations.models import Booking
from evhub.reservations.state import HOLDING, BookingState


@dataclass(frozen=True)
class DeclaredNeed:
    """What a booking tells the planner: `energy_kwh` wanted on an EVSE between `arrival_at`
    (the slot start) and the declared `departure_at`; `transaction_pk` once the car charges."""

    booking_id: int
    station_id: str
    evse_id: int
    evse_pk: int
    energy_kwh: float
    arrival_at: datetime
    departure_at: datetime
    state: BookingState
    transaction_pk: int | None


async def declared_needs(session: AsyncSession, site_id: int, now: datetime) -> list[DeclaredNeed]:
    """For the planner's demand model: each booking of the site in use or still to come."""
    rows = await session.execute(
        select(Booking, Evse.station_id, Evse.evse_id)
        .join(Evse, Evse.id == Booking.evse_pk)
        .where(
            Booking.site_id == site_id,
            Booking.state.in_(HOLDING),
            (Booking.ends_at > now) | (Booking.state == BookingState.IN_USE),
        )
        .order_by(Booking.starts_at, Booking.id)
    )
    return [
        DeclaredNeed(
            booking_id=b.id,
            station_id=station_id,
            evse_id=evse_id,
            evse_pk=b.evse_pk or 0,
            energy_kwh=b.energy_kwh,
            arrival_at=b.starts_at,
            departure_at=b.departure_at,
            state=BookingState(b.state),
            transaction_pk=b.transaction_pk,
        )
        for b, station_id, evse_id in rows.all()
    ]


async def places(session: AsyncSession, bookings: Sequence[Booking]) -> dict[int, tuple[str, int]]:
    """evse_pk -> (station id, OCPP evse id) for the bookings given."""
    pks = {b.evse_pk for b in bookings if b.evse_pk is not None}
    if not pks:
        return {}
    rows = await session.execute(
        select(Evse.id, Evse.station_id, Evse.evse_id).where(Evse.id.in_(pks))
    )
    return {pk: (station_id, evse_id) for pk, station_id, evse_id in rows.all()}


async def summary(session: AsyncSession, booking: Booking) -> dict[str, object]:
    """The event payload of a booking: enough for a driver's app to tell what happened."""
    return {
        "booking_id": booking.id,
        "driver_id": booking.driver_id,
        "site_id": booking.site_id,
        "state": str(booking.state),
        "starts_at": booking.starts_at.isoformat(),
        "ends_at": booking.ends_at.isoformat(),
        "fee_rule": booking.fee_rule,
        "idle_minutes": booking.idle_minutes,
        **(await place(session, booking.evse_pk) if booking.evse_pk else {}),
    }


async def place(session: AsyncSession, evse_pk: int) -> dict[str, object]:
    evse = await session.get(Evse, evse_pk)
    return {"station_id": evse.station_id, "evse_id": evse.evse_id} if evse else {}


@dataclass(frozen=True)
class CalendarLine:
    evse: Evse
    bookings: list[Booking]


async def site_calendar(
    session: AsyncSession,
    site_id: int,
    starts_at: datetime,
    ends_at: datetime,
    include_cancelled: bool = False,
) -> tuple[list[CalendarLine], list[Booking]]:
    """Each EVSE of the site with its bookings overlapping [starts_at, ends_at), and the
    bookings of the range that have no EVSE."""
    evses = await session.scalars(
        select(Evse)
        .join(Station, Station.id == Evse.station_id)
        .where(Station.site_id == site_id)
        .order_by(Evse.station_id, Evse.evse_id)
    )
    query = select(Booking).where(
        Booking.site_id == site_id, Booking.starts_at < ends_at, Booking.ends_at > starts_at
    )
    if not include_cancelled:
        query = query.where(Booking.state != BookingState.CANCELLED)
    bookings = list(await session.scalars(query.order_by(Booking.starts_at, Booking.id)))
    lines = [CalendarLine(e, [b for b in bookings if b.evse_pk == e.id]) for e in evses]
    return lines, [b for b in bookings if b.evse_pk is None]
