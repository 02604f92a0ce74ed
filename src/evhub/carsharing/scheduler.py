"""The car-sharing timer: every period, keep due cars for their drivers and close out
no-shows. "Now" comes from the injected clock; the period is wall time."""

from __future__ import annotations

import asyncio
import logging

from evhub.carsharing import bookings
from evhub.carsharing.policy import CarsharingPolicy
from evhub.clock import Clock
from evhub.uow import UnitOfWork

log = logging.getLogger("evhub.carsharing")


class CarsharingScheduler:
    def __init__(self, uow: UnitOfWork, clock: Clock, policy: CarsharingPolicy) -> None:
        self.uow = uow
        self.clock = clock
        self.policy = policy
        self._lock = asyncio.Lock()

    async def run(self) -> None:
        while True:
            await self.tick()
            await asyncio.sleep(self.policy.period_s)

    async def tick(self) -> None:
        """One pass; passes never overlap (a test or an operator may call it too)."""
        async with self._lock:
            async with self.uow() as session:
                closed = await bookings.sweep_no_shows(session, self.clock.now(), self.policy)
            async with self.uow() as session:
                await bookings.mark_due(session, self.clock.now(), self.policy)
            if closed:
                log.info("event=no_shows bookings=%s", closed)
