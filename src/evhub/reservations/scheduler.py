"""The reservation timer: every period, reserve what is due, then sweep no-shows, overstays
and stale unassigned bookings. "Now" comes from the injected clock; the period is wall time,
so that an accelerated or frozen clock is polled at a steady pace."""

from __future__ import annotations

import asyncio
import logging

from evhub.clock import Clock
from evhub.control import ChargerControl
from evhub.reservations import charger, lifecycle, overstay
from evhub.reservations.policy import BookingPolicy
from evhub.uow import UnitOfWork

log = logging.getLogger("evhub.reservations")


class ReservationScheduler:
    def __init__(
        self, uow: UnitOfWork, clock: Clock, control: ChargerControl, policy: BookingPolicy
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.control = control
        self.policy = policy
        self._lock = asyncio.Lock()

    async def run(self) -> None:
        while True:
            await self.tick()
            await asyncio.sleep(self.policy.period_s)

    async def tick(self) -> None:
        """One pass; passes never overlap (a test or an operator may call it too)."""
        async with self._lock:
            await self._reserve_due()
            async with self.uow() as session:
                releases = await lifecycle.sweep_no_shows(session, self.clock.now(), self.policy)
            for release in releases:
                await charger.release(self.control, release)
            async with self.uow() as session:
                await overstay.sweep_overstays(session, self.clock.now(), self.policy)
                await lifecycle.close_unassigned(session, self.clock.now())

    async def _reserve_due(self) -> None:
        async with self.uow() as session:
            orders = await lifecycle.due_for_reservation(session, self.clock.now(), self.policy)
        for order in orders:
            try:
                await charger.reserve(self.uow, self.control, self.clock, self.policy, order)
            except Exception:  # one booking's trouble must not hold up the others
                log.exception("event=reserve_failed booking=%s", order.booking_id)
