"""A booking's life on the charger, in database terms: reservations due and the stations'
answers, the transaction that starts a booking, no-shows and overstays.

Nothing here talks to a station: `evhub.reservations.charger` sends the commands between two
units of work, so no database transaction stays open while a station thinks.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts.models import Token
from evhub.assets.models import Evse
from evhub.charging.models import Transaction
from evhub.charging.state import TransactionState
from evhub.events import emit
from evhub.reservations import holds, service, views
from evhub.reservations.models import Booking
from evhub.reservations.policy import BookingPolicy
from evhub.reservations.service import ChargerRelease, Slot
from evhub.reservations.state import BookingState, FeeRule, check_transition

log = logging.getLogger("evhub.reservations")


@dataclass(frozen=True)
class ReserveOrder:
    """ReserveNow to send: the booking's id is the reservation id on the station."""

    booking_id: int
    evse_pk: int
    station_id: str
    evse_id: int
    id_token: str
    group_id: str | None
    expires_at: datetime


async def due_for_reservation(
    session: AsyncSession, now: datetime, policy: BookingPolicy
) -> list[ReserveOrder]:
    """Booked slots starting within the lead time and not yet past their grace period."""
    rows = await session.execute(
        select(Booking, Evse.station_id, Evse.evse_id)
        .join(Evse, Evse.id == Booking.evse_pk)
        .where(
            Booking.state == BookingState.BOOKED,
            Booking.starts_at <= now + policy.lead_time,
            Booking.starts_at > now - policy.no_show_grace,
        )
        .order_by(Booking.starts_at, Booking.id)
    )
    return [_order(b, station_id, evse_id, policy) for b, station_id, evse_id in rows.all()]


def _order(booking: Booking, station_id: str, evse_id: int, policy: BookingPolicy) -> ReserveOrder:
    assert booking.evse_pk is not None
    return ReserveOrder(
        booking.id,
        booking.evse_pk,
        station_id,
        evse_id,
        booking.id_token,
        booking.group_id,
        booking.starts_at + policy.no_show_grace,
    )


async def record_reserve_answer(
    session: AsyncSession,
    order: ReserveOrder,
    status: str,
    now: datetime,
    policy: BookingPolicy,
    tried: Sequence[int],
) -> ReserveOrder | ChargerRelease | None:
    """Apply a station's answer to ReserveNow. Accepted: the booking is reserved (or, if it
    was cancelled or moved meanwhile, the station's reservation is to be cancelled). Refused:
    the booking moves to another suitable free EVSE of the site (the next order to send), or
    is left unassigned and the driver told."""
    booking = await service.get_booking(session, order.booking_id, lock=True)
    wanted = booking.state == BookingState.BOOKED and booking.evse_pk == order.evse_pk
    if status == "Accepted":
        if not wanted:
            return ChargerRelease(order.station_id, order.evse_id, order.booking_id)
        check_transition(booking.state, BookingState.RESERVED)
        booking.state, booking.reserved_at, booking.updated_at = BookingState.RESERVED, now, now
        emit(session, "reservation.reserved", now, **await views.summary(session, booking))
        return None
    if not wanted:
        return None
    return await _reassign(session, booking, order, status, now, policy, tried)


async def _reassign(
    session: AsyncSession,
    booking: Booking,
    order: ReserveOrder,
    status: str,
    now: datetime,
    policy: BookingPolicy,
    tried: Sequence[int],
) -> ReserveOrder | None:
    former = await session.get(Evse, order.evse_pk)
    current_type = booking.current_type or (former.current_type if former else None)
    slot = Slot(
        booking.site_id, booking.starts_at, booking.ends_at, current_type, booking.min_power_kw
    )
    refused = {"station_id": order.station_id, "evse_id": order.evse_id, "answer": status}
    for free in await service.search_free_evses(session, slot, exclude=tried):
        changes: dict[str, object] = {
            "evse_pk": free.evse_pk, "reassignments": booking.reassignments + 1,
            "updated_at": now,
        }  # fmt: skip
        if await holds.hold(session, booking, changes):
            payload = await views.summary(session, booking)
            emit(session, "reservation.reassigned", now, refused=refused, **payload)
            return _order(booking, free.station_id, free.evse_id, policy)
    check_transition(booking.state, BookingState.UNASSIGNED)
    booking.state, booking.evse_pk, booking.updated_at = BookingState.UNASSIGNED, None, now
    payload = await views.summary(session, booking)
    emit(session, "reservation.failed", now, refused=refused, **payload)
    return None


async def link_transaction(
    session: AsyncSession,
    tx: Transaction,
    now: datetime,
    reservation_id: int | None = None,
    early_arrival: timedelta = timedelta(minutes=15),
) -> Booking | None:
    """A transaction that starts a booking: the reservation id the station gives (1.6
    StartTransaction, 2.0.1 TransactionEvent), else the driver's token (or its group, or
    another token of the driver) on the booked EVSE during the slot. The booking is in use."""
    if tx.id_token is None and reservation_id is None:
        return None
    linked = await session.scalar(select(Booking).where(Booking.transaction_pk == tx.id))
    if linked is not None:
        return linked
    booking = await _booking_for(session, tx, reservation_id, early_arrival)
    if booking is None:
        return None
    check_transition(booking.state, BookingState.IN_USE)
    booking.state, booking.transaction_pk, booking.updated_at = BookingState.IN_USE, tx.id, now
    payload = await views.summary(session, booking)
    emit(session, "reservation.started", now, transaction_id=tx.id, **payload)
    return booking


async def _booking_for(
    session: AsyncSession,
    tx: Transaction,
    reservation_id: int | None,
    early_arrival: timedelta,
) -> Booking | None:
    query = (
        select(Booking)
        .join(Evse, Evse.id == Booking.evse_pk)
        .where(
            Evse.station_id == tx.station_id,
            Booking.state.in_((BookingState.BOOKED, BookingState.RESERVED)),
        )
    )
    if reservation_id is not None:
        found = await session.scalar(query.where(Booking.id == reservation_id))
        if found is not None:
            return found
    token = await session.scalar(select(Token).where(Token.uid == tx.id_token))
    candidates = await session.scalars(
        query.where(
            Evse.evse_id == tx.evse_id,
            Booking.starts_at <= tx.started_at + early_arrival,
            Booking.ends_at > tx.started_at,
        ).order_by(Booking.starts_at)
    )
    for booking in candidates:
        if booking.id_token == tx.id_token or (
            token is not None
            and (
                (token.group_id is not None and token.group_id == booking.group_id)
                or token.driver_id == booking.driver_id
            )
        ):
            return booking
    return None


async def sweep_no_shows(
    session: AsyncSession, now: datetime, policy: BookingPolicy
) -> list[ChargerRelease]:
    """Bookings not started within the grace period: no-show (fee rule recorded), unless a
    matching transaction is running on the EVSE after all. Returns reservations to cancel."""
    late = await session.scalars(
        select(Booking)
        .where(
            Booking.state.in_((BookingState.BOOKED, BookingState.RESERVED)),
            Booking.starts_at <= now - policy.no_show_grace,
        )
        .order_by(Booking.starts_at)
        .with_for_update()
    )
    releases: list[ChargerRelease] = []
    for booking in list(late):
        if await _late_link(session, booking, now):
            continue
        release = await service.release_of(session, booking)
        check_transition(booking.state, BookingState.NO_SHOW)
        booking.state, booking.fee_rule = BookingState.NO_SHOW, FeeRule.NO_SHOW
        booking.updated_at = now
        emit(session, "reservation.no_show", now, **await views.summary(session, booking))
        if release is not None:
            releases.append(release)
    return releases


async def _late_link(session: AsyncSession, booking: Booking, now: datetime) -> bool:
    evse = await session.get(Evse, booking.evse_pk) if booking.evse_pk else None
    if evse is None:
        return False
    running = await session.scalars(
        select(Transaction).where(
            Transaction.station_id == evse.station_id,
            Transaction.evse_id == evse.evse_id,
            Transaction.state == TransactionState.ACTIVE,
        )
    )
    for tx in running:
        linked = await link_transaction(session, tx, now)
        if linked is not None and linked.id == booking.id:
            return True
    return False


async def close_unassigned(session: AsyncSession, now: datetime) -> int:
    """Unassigned bookings whose slot is over are cancelled by the system (no fee)."""
    stale = await session.scalars(
        select(Booking).where(Booking.state == BookingState.UNASSIGNED, Booking.ends_at <= now)
    )
    count = 0
    for booking in stale:
        check_transition(booking.state, BookingState.CANCELLED)
        booking.state, booking.cancelled_by = BookingState.CANCELLED, "system"
        booking.cancelled_at = booking.updated_at = now
        emit(session, "reservation.cancelled", now, **await views.summary(session, booking))
        count += 1
    return count


async def reservation_status_update(
    session: AsyncSession, station_id: str, reservation_id: int, status: str, now: datetime
) -> Booking | None:
    """OCPP 2.0.1 ReservationStatusUpdate (H05): the station expired or removed a reservation.
    Removed: the booking is booked again, and the scheduler sends ReserveNow anew while the
    slot allows. Expired: the no-show sweep decides, at the end of the grace period."""
    booking = await session.scalar(
        select(Booking)
        .join(Evse, Evse.id == Booking.evse_pk)
        .where(Booking.id == reservation_id, Evse.station_id == station_id)
    )
    if booking is None or booking.state != BookingState.RESERVED:
        log.info(
            "station=%s event=reservation_status reservation=%s status=%s ignored",
            station_id, reservation_id, status,
        )  # fmt: skip
        return None
    if status == "Removed":
        check_transition(booking.state, BookingState.BOOKED)
        booking.state, booking.reserved_at, booking.updated_at = BookingState.BOOKED, None, now
        emit(session, "reservation.removed", now, **await views.summary(session, booking))
    return booking
