"""Bookings on the chargers: ReserveNow with re-assignment, CancelReservation on release.

Each station call happens between two units of work, never inside one. Cancelling or moving
a booking commits first and then releases the station's reservation: a station that cannot be
reached keeps it at most until it expires (slot start + grace), as ReserveNow said.
"""

from __future__ import annotations

import logging

from evhub.clock import Clock
from evhub.control import ChargerControl
from evhub.errors import StationTimeout, StationUnavailable
from evhub.reservations import lifecycle, service
from evhub.reservations.lifecycle import ReserveOrder
from evhub.reservations.models import Booking
from evhub.reservations.policy import BookingPolicy
from evhub.reservations.service import ChargerRelease
from evhub.uow import UnitOfWork

log = logging.getLogger("evhub.reservations")


async def reserve(
    uow: UnitOfWork,
    control: ChargerControl,
    clock: Clock,
    policy: BookingPolicy,
    order: ReserveOrder,
) -> None:
    """Send ReserveNow; on a refusal, move the booking to the next free EVSE and try it."""
    tried: list[int] = []
    next_order: ReserveOrder | None = order
    while next_order is not None:
        current = next_order
        tried.append(current.evse_pk)
        status = await _reserve_now(control, current)
        if status is None:  # no answer: the next tick asks again
            return
        async with uow() as session:
            step = await lifecycle.record_reserve_answer(
                session, current, status, clock.now(), policy, tried
            )
        if isinstance(step, ChargerRelease):
            await release(control, step)
            return
        next_order = step


async def _reserve_now(control: ChargerControl, order: ReserveOrder) -> str | None:
    """The station's answer to ReserveNow; an unreachable station counts as Unavailable, a
    CallError (reservations not supported) as Rejected, a timeout as no answer."""
    try:
        result = await control.reserve_now(
            order.station_id,
            order.evse_id,
            order.booking_id,
            order.id_token,
            order.expires_at,
            order.group_id,
        )
    except StationTimeout:
        log.warning(
            "station=%s event=reserve_now_timeout booking=%s", order.station_id, order.booking_id
        )
        return None
    except StationUnavailable:
        return "Unavailable"
    log.info(
        "station=%s event=reserve_now booking=%s evse=%s status=%s",
        order.station_id, order.booking_id, order.evse_id, result.status,
    )  # fmt: skip
    return "Rejected" if result.status == "CallError" else result.status


async def release(control: ChargerControl, release: ChargerRelease) -> None:
    """CancelReservation; failures are logged: the station's reservation expires anyway."""
    try:
        result = await control.cancel_reservation(release.station_id, release.reservation_id)
    except StationUnavailable as exc:  # includes timeouts
        log.warning(
            "station=%s event=cancel_reservation_failed booking=%s error=%s",
            release.station_id, release.reservation_id, exc.message,
        )  # fmt: skip
        return
    log.info(
        "station=%s event=cancel_reservation booking=%s status=%s",
        release.station_id, release.reservation_id, result.status,
    )  # fmt: skip


async def cancel(
    uow: UnitOfWork,
    control: ChargerControl,
    clock: Clock,
    policy: BookingPolicy,
    booking_id: int,
    by: str,
    note: str = "",
) -> Booking:
    async with uow() as session:
        booking, to_release = await service.cancel(
            session, booking_id, clock.now(), policy, by, note
        )
    if to_release is not None:
        await release(control, to_release)
    return booking


async def force_assign(
    uow: UnitOfWork,
    control: ChargerControl,
    clock: Clock,
    booking_id: int,
    station_id: str,
    evse_id: int,
    note: str = "",
) -> Booking:
    async with uow() as session:
        booking, to_release = await service.force_assign(
            session, booking_id, station_id, evse_id, clock.now(), note
        )
    if to_release is not None:
        await release(control, to_release)
    return booking
