"""Bookings: search free EVSEs, book, modify, cancel, operator overrides, planning's view.

No double booking, ever: see `evhub.reservations.holds`. The checks made before a hold (free
EVSEs, the driver's other bookings) only give better answers; the database has the last word,
for an EVSE's bookings (migration 0004) as for a driver's (0008).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts import service as accounts
from evhub.accounts.models import Driver, Token
from evhub.assets import service as assets
from evhub.assets.models import Connector, Evse, Station
from evhub.errors import InvalidInput, NotFound
from evhub.events import emit
from evhub.reservations import access, views
from evhub.reservations.errors import ReservationConflict, TooLate
from evhub.reservations.holds import conflict_for, hold, holding
from evhub.reservations.models import Booking
from evhub.reservations.policy import BookingPolicy
from evhub.reservations.state import BookingState, FeeRule, check_transition
from evhub.reservations.views import DeclaredNeed as DeclaredNeed  # planning's entry point
from evhub.reservations.views import declared_needs as declared_needs

PAST_TOLERANCE = timedelta(minutes=1)


@dataclass(frozen=True)
class Slot:
    site_id: int
    starts_at: datetime
    ends_at: datetime
    current_type: str | None = None
    min_power_kw: float | None = None


@dataclass(frozen=True)
class BookingRequest:
    driver_id: int
    slot: Slot
    energy_kwh: float
    departure_at: datetime | None = None
    id_token: str | None = None
    station_id: str | None = None
    evse_id: int | None = None


@dataclass(frozen=True)
class BookingChange:
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    energy_kwh: float | None = None
    departure_at: datetime | None = None


@dataclass(frozen=True)
class FreeEvse:
    evse_pk: int
    station_id: str
    evse_id: int
    current_type: str
    max_power_kw: float
    online: bool


@dataclass(frozen=True)
class ChargerRelease:
    """A reservation to cancel on a station once the database change is committed."""

    station_id: str
    evse_id: int
    reservation_id: int


async def search_free_evses(
    session: AsyncSession, slot: Slot, exclude: Sequence[int] = ()
) -> list[FreeEvse]:
    """EVSEs of the site free for the whole slot and matching the criteria; connected
    stations first, then the least powerful that suffices (keep big ones for big needs)."""
    _check_times(slot.starts_at, slot.ends_at)
    busy = holding(slot.starts_at, slot.ends_at).with_only_columns(Booking.evse_pk)
    faulted = select(Connector.evse_pk).where(Connector.status == "Faulted")
    query = (
        select(Evse, Station.online)
        .join(Station, Station.id == Evse.station_id)
        .where(
            Station.site_id == slot.site_id,
            Station.commissioned.is_(True),
            Evse.id.not_in(busy.where(Booking.evse_pk.is_not(None))),
            Evse.id.not_in(faulted),
        )
        .order_by(Station.online.desc(), Evse.max_power_kw, Evse.station_id, Evse.evse_id)
    )
    if slot.current_type is not None:
        query = query.where(Evse.current_type == slot.current_type)
    if slot.min_power_kw is not None:
        query = query.where(Evse.max_power_kw >= slot.min_power_kw)
    if exclude:
        query = query.where(Evse.id.not_in(list(exclude)))
    rows = (await session.execute(query)).all()
    return [
        FreeEvse(e.id, e.station_id, e.evse_id, e.current_type, e.max_power_kw, bool(online))
        for e, online in rows
    ]


async def book(
    session: AsyncSession, request: BookingRequest, now: datetime, policy: BookingPolicy
) -> Booking:
    """Book a spot: within the group's windows and quota, on the EVSE asked for or the first
    suitable free one; ReservationConflict (409) when none can be held."""
    slot = request.slot
    _check_request(request, now, policy)
    driver = await accounts.get_driver(session, request.driver_id)
    token = await _booking_token(session, driver, request.id_token)
    site = await assets.get_site(session, slot.site_id)
    await access.check_slot(session, site, driver.user_group, slot.starts_at, slot.ends_at)
    await _check_driver_free(session, driver.id, slot.starts_at, slot.ends_at, None)
    if request.station_id is not None:
        candidates = [await _evse(session, slot, request.station_id, request.evse_id or 1)]
    else:
        candidates = [c.evse_pk for c in await search_free_evses(session, slot)]
    booking = Booking(
        site_id=slot.site_id,
        driver_id=driver.id,
        id_token=token.uid,
        group_id=token.group_id,
        user_group=driver.user_group,
        current_type=slot.current_type,
        min_power_kw=slot.min_power_kw,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        energy_kwh=request.energy_kwh,
        departure_at=request.departure_at or slot.ends_at,
        state=BookingState.BOOKED,
        reassignments=0,
        idle_minutes=0,
        note="",
        created_at=now,
        updated_at=now,
    )
    for evse_pk in candidates:
        booking.evse_pk = evse_pk
        if await hold(session, booking, add=True):
            emit(session, "reservation.booked", now, **await views.summary(session, booking))
            return booking
    if not candidates:
        raise ReservationConflict("no EVSE of the site matching the request is free for the slot")
    raise await conflict_for(session, candidates[-1], slot.starts_at, slot.ends_at, None)


async def get_booking(session: AsyncSession, booking_id: int, lock: bool = False) -> Booking:
    query = select(Booking).where(Booking.id == booking_id)
    if lock:
        query = query.with_for_update()
    booking = (await session.execute(query)).scalar_one_or_none()
    if booking is None:
        raise NotFound(f"booking {booking_id} not found")
    return booking


async def list_bookings(
    session: AsyncSession,
    driver_id: int | None = None,
    site_id: int | None = None,
    states: Sequence[str] = (),
    starts_before: datetime | None = None,
    ends_after: datetime | None = None,
    limit: int = 500,
) -> list[Booking]:
    query = select(Booking)
    if driver_id is not None:
        query = query.where(Booking.driver_id == driver_id)
    if site_id is not None:
        query = query.where(Booking.site_id == site_id)
    if states:
        query = query.where(Booking.state.in_(list(states)))
    if starts_before is not None:
        query = query.where(Booking.starts_at < starts_before)
    if ends_after is not None:
        query = query.where(Booking.ends_at > ends_after)
    query = query.order_by(Booking.starts_at, Booking.id).limit(limit)
    return list((await session.execute(query)).scalars())


async def modify(
    session: AsyncSession,
    booking_id: int,
    change: BookingChange,
    now: datetime,
    policy: BookingPolicy,
) -> Booking:
    """Move or resize a booked slot, or change its declared need, on the same EVSE; only
    while it is free to cancel (later: cancel and book again)."""
    booking = await get_booking(session, booking_id, lock=True)
    if booking.state != BookingState.BOOKED:
        raise TooLate(f"a booking that is {booking.state} cannot be changed", state=booking.state)
    if now > booking.starts_at - policy.free_cancellation:
        raise TooLate("changes are possible until the free cancellation deadline")
    starts = change.starts_at or booking.starts_at
    ends = change.ends_at or booking.ends_at
    departure = change.departure_at or (ends if change.ends_at else booking.departure_at)
    _check_slot_times(starts, ends, departure, now, policy)
    if (starts, ends) != (booking.starts_at, booking.ends_at):
        site = await assets.get_site(session, booking.site_id)
        await access.check_slot(session, site, booking.user_group, starts, ends, booking.id)
        await _check_driver_free(session, booking.driver_id, starts, ends, booking.id)
    changes: dict[str, object] = {
        "starts_at": starts, "ends_at": ends, "departure_at": departure, "updated_at": now,
        "energy_kwh": change.energy_kwh or booking.energy_kwh,
    }  # fmt: skip
    if not await hold(session, booking, changes):
        assert booking.evse_pk is not None
        raise await conflict_for(session, booking.evse_pk, starts, ends, booking.id)
    emit(session, "reservation.modified", now, **await views.summary(session, booking))
    return booking


async def cancel(
    session: AsyncSession,
    booking_id: int,
    now: datetime,
    policy: BookingPolicy,
    by: str = "driver",
    note: str = "",
) -> tuple[Booking, ChargerRelease | None]:
    """Cancel; a driver cancelling after the free cancellation deadline is charged a fee
    (recorded for billing). Returns the station reservation to cancel, if one was made."""
    booking = await get_booking(session, booking_id, lock=True)
    release = await release_of(session, booking)
    check_transition(booking.state, BookingState.CANCELLED)
    if by == "driver" and now > booking.starts_at - policy.free_cancellation:
        booking.fee_rule = FeeRule.LATE_CANCELLATION
    booking.state = BookingState.CANCELLED
    booking.cancelled_at, booking.cancelled_by, booking.updated_at = now, by, now
    booking.note = note[:255]
    emit(session, "reservation.cancelled", now, **await views.summary(session, booking))
    return booking, release


async def force_assign(
    session: AsyncSession,
    booking_id: int,
    station_id: str,
    evse_id: int,
    now: datetime,
    note: str = "",
) -> tuple[Booking, ChargerRelease | None]:
    """Operator override: put a booking on this EVSE (access windows and quotas do not apply;
    the no-overlap rule does). A reservation made on the former EVSE is to be cancelled."""
    booking = await get_booking(session, booking_id, lock=True)
    if booking.state not in (BookingState.BOOKED, BookingState.RESERVED, BookingState.UNASSIGNED):
        raise TooLate(f"a booking that is {booking.state} cannot be re-assigned")
    slot = Slot(booking.site_id, booking.starts_at, booking.ends_at)
    evse_pk = await _evse(session, slot, station_id, evse_id)
    release = await release_of(session, booking)
    if booking.state != BookingState.BOOKED:
        check_transition(booking.state, BookingState.BOOKED)
    changes: dict[str, object] = {
        "state": BookingState.BOOKED, "evse_pk": evse_pk, "reserved_at": None,
        "updated_at": now, "note": note[:255] or booking.note,
    }  # fmt: skip
    if not await hold(session, booking, changes):
        raise await conflict_for(session, evse_pk, booking.starts_at, booking.ends_at, booking.id)
    payload = await views.summary(session, booking)
    emit(session, "reservation.reassigned", now, by="operator", **payload)
    return booking, release


async def release_of(session: AsyncSession, booking: Booking) -> ChargerRelease | None:
    """The station reservation a booking holds, if it is reserved on a station."""
    if booking.state != BookingState.RESERVED or booking.evse_pk is None:
        return None
    evse = await session.get(Evse, booking.evse_pk)
    return ChargerRelease(evse.station_id, evse.evse_id, booking.id) if evse else None


async def _evse(session: AsyncSession, slot: Slot, station_id: str, evse_id: int) -> int:
    """The EVSE asked for, checked against the site and the request's criteria."""
    row = (
        await session.execute(
            select(Evse, Station.site_id)
            .join(Station, Station.id == Evse.station_id)
            .where(Evse.station_id == station_id, Evse.evse_id == evse_id)
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"EVSE {evse_id} of station {station_id!r} not found")
    evse, site_id = row
    if site_id != slot.site_id:
        raise InvalidInput(f"station {station_id!r} is not at site {slot.site_id}")
    if slot.current_type is not None and evse.current_type != slot.current_type:
        raise InvalidInput(f"EVSE {evse_id} of {station_id!r} is {evse.current_type}")
    if slot.min_power_kw is not None and evse.max_power_kw < slot.min_power_kw:
        raise InvalidInput(f"EVSE {evse_id} of {station_id!r} gives {evse.max_power_kw} kW")
    return evse.id


async def _booking_token(session: AsyncSession, driver: Driver, uid: str | None) -> Token:
    """The token the station will be told to reserve for: the one named, or the driver's first
    accepted one."""
    query = select(Token).where(Token.driver_id == driver.id, Token.status == "Accepted")
    if uid is not None:
        query = query.where(Token.uid == uid)
    token = (await session.execute(query.order_by(Token.id).limit(1))).scalar_one_or_none()
    if token is None:
        which = f"token {uid!r}" if uid else "an accepted token"
        raise InvalidInput(f"driver {driver.id} has no {which} to book with")
    return token


async def _check_driver_free(
    session: AsyncSession,
    driver_id: int,
    starts_at: datetime,
    ends_at: datetime,
    exclude_id: int | None,
) -> None:
    query = holding(starts_at, ends_at).where(Booking.driver_id == driver_id)
    if exclude_id is not None:
        query = query.where(Booking.id != exclude_id)
    other = (await session.execute(query.limit(1))).scalar_one_or_none()
    if other is not None:
        raise ReservationConflict(
            f"driver {driver_id} already holds booking {other.id} for an overlapping slot",
            reason="driver_overlap",
            conflicting={
                "booking_id": other.id,
                "starts_at": other.starts_at.isoformat(),
                "ends_at": other.ends_at.isoformat(),
            },
        )


def _check_request(request: BookingRequest, now: datetime, policy: BookingPolicy) -> None:
    slot = request.slot
    departure = request.departure_at or slot.ends_at
    _check_slot_times(slot.starts_at, slot.ends_at, departure, now, policy)
    if request.energy_kwh <= 0:
        raise InvalidInput("energy_kwh must be positive")
    if (request.station_id is None) != (request.evse_id is None):
        raise InvalidInput("station_id and evse_id go together")


def _check_slot_times(
    starts_at: datetime,
    ends_at: datetime,
    departure_at: datetime,
    now: datetime,
    policy: BookingPolicy,
) -> None:
    _check_times(starts_at, ends_at)
    if starts_at < now - PAST_TOLERANCE:
        raise InvalidInput("the slot starts in the past")
    if ends_at - starts_at > policy.max_slot:
        raise InvalidInput(f"a slot lasts at most {policy.max_slot}")
    if not starts_at < departure_at <= ends_at:
        raise InvalidInput("departure_at must be within the slot")


def _check_times(starts_at: datetime, ends_at: datetime) -> None:
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise InvalidInput("times need a time zone offset")
    if ends_at <= starts_at:
        raise InvalidInput("the slot must end after it starts")
