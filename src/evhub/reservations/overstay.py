"""Overstay: a car that keeps its connector after its charge ended and its slot is over.

Idle time runs from the later of the slot's end and the first sign that the charge was over:
the transaction's stop, a connector's SuspendedEV/Finishing report (1.6), or a 2.0.1
chargingState other than Charging (seen by this sweep). A charger holding power back
(SuspendedEVSE) is not the driver's doing. Idle time ends when the connector is freed: the
booking is then completed, with its idle minutes and the overstay fee rule if there were any.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.assets.models import Connector
from evhub.charging.models import Transaction
from evhub.charging.state import TransactionState
from evhub.events import emit
from evhub.reservations import views
from evhub.reservations.models import Booking
from evhub.reservations.policy import BookingPolicy
from evhub.reservations.state import BookingState, FeeRule, check_transition

# Connector states (1.6 ChargePointStatus, 2.0.1 ConnectorStatus) with a car plugged in.
PLUGGED = frozenset(
    {"Preparing", "Charging", "SuspendedEV", "SuspendedEVSE", "Finishing", "Occupied"}
)
CHARGING = frozenset({"Charging", "SuspendedEVSE"})
CHARGE_OVER_STATUSES = frozenset({"SuspendedEV", "Finishing"})
CHARGE_OVER_STATES = frozenset({"SuspendedEV", "EVConnected", "Idle"})  # 2.0.1 chargingState


@dataclass(frozen=True)
class Outlet:
    """What is known of a booked EVSE now: its transaction and its connectors' states."""

    tx_active: bool
    tx_stopped_at: datetime | None
    charging_state: str | None
    statuses: tuple[tuple[str, datetime | None], ...]

    @property
    def freed(self) -> bool:
        return not self.tx_active and not any(s in PLUGGED for s, _ in self.statuses)

    def freed_at(self, now: datetime) -> datetime:
        times = [at for _, at in self.statuses if at is not None]
        return min(max(times), now) if times else now


def charge_over_since(outlet: Outlet, now: datetime) -> datetime | None:
    """Since when the car has been done charging while plugged in; None while it charges."""
    if not outlet.tx_active:
        return outlet.tx_stopped_at or now
    if outlet.charging_state in CHARGING or any(s in CHARGING for s, _ in outlet.statuses):
        return None
    reported = [at or now for s, at in outlet.statuses if s in CHARGE_OVER_STATUSES]
    if reported:
        return max(reported)
    if outlet.charging_state in CHARGE_OVER_STATES:
        return now
    return None


async def sweep_overstays(session: AsyncSession, now: datetime, policy: BookingPolicy) -> None:
    """Complete the bookings whose connector is free; count idle minutes of the others."""
    in_use = await session.scalars(
        select(Booking).where(Booking.state == BookingState.IN_USE).with_for_update()
    )
    for booking in list(in_use):
        outlet = await _outlet(session, booking)
        if outlet.freed:
            _idle_until(booking, outlet.freed_at(now))
            check_transition(booking.state, BookingState.COMPLETED)
            booking.state, booking.updated_at = BookingState.COMPLETED, now
            emit(session, "reservation.completed", now, **await views.summary(session, booking))
        elif now >= booking.ends_at:
            await _track_idle(session, booking, outlet, now, policy)


async def _track_idle(
    session: AsyncSession, booking: Booking, outlet: Outlet, now: datetime, policy: BookingPolicy
) -> None:
    first = booking.idle_since is None
    if first:
        since = charge_over_since(outlet, now)
        if since is None:
            return
        booking.idle_since = max(since, booking.ends_at)
    before = booking.idle_minutes
    _idle_until(booking, now)
    every = max(1, int(policy.overstay_notice_every.total_seconds() // 60))
    if first or booking.idle_minutes // every > before // every:
        emit(session, "reservation.overstay", now, **await views.summary(session, booking))


def _idle_until(booking: Booking, end: datetime) -> None:
    if booking.idle_since is None:
        return
    booking.idle_minutes = max(0, int((end - booking.idle_since).total_seconds() // 60))
    if booking.idle_minutes > 0:
        booking.fee_rule = FeeRule.OVERSTAY


async def _outlet(session: AsyncSession, booking: Booking) -> Outlet:
    tx = await session.get(Transaction, booking.transaction_pk) if booking.transaction_pk else None
    rows = await session.execute(
        select(Connector.status, Connector.status_at).where(Connector.evse_pk == booking.evse_pk)
    )
    return Outlet(
        tx_active=tx is not None and tx.state == TransactionState.ACTIVE,
        tx_stopped_at=tx.stopped_at if tx else None,
        charging_state=tx.charging_state if tx else None,
        statuses=tuple((status, at) for status, at in rows.all()),
    )
