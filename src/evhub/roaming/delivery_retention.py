"""Acknowledged pushes are dropped once older than the retention: the deliveries table holds
what is owed, and a while of what was delivered (for the console and an operator's questions).

Nothing in the delivery rules reads a delivered row again: the order of an object's pushes is
that of its rows still owed (the oldest one owed is the head, `deliveries.due_heads`), and a
retry is a row still owed. So a row is pruned only when acknowledged (`delivered_at` set) and
acknowledged before the cut-off; a row still owed is never touched, however old, and keeps
holding back the pushes of its object queued after it. Deleted in small batches, one
transaction each, so that the loop never holds the table's writers for long.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.events import emit
from evhub.roaming.context import RoamingContext
from evhub.roaming.models import Delivery

log = logging.getLogger("evhub.roaming")
PRUNED = "roaming.deliveries_pruned"
PRUNE_BATCH = 1000


async def prune_batch(
    session: AsyncSession, before: datetime, now: datetime, batch: int = PRUNE_BATCH
) -> int:
    """Delete up to `batch` pushes acknowledged before `before`, oldest first; how many."""
    ids = list(
        await session.scalars(
            select(Delivery.id)
            .where(Delivery.delivered_at.is_not(None), Delivery.delivered_at < before)
            .order_by(Delivery.id)
            .limit(batch)
        )
    )
    if ids:
        await session.execute(delete(Delivery).where(Delivery.id.in_(ids)))
        emit(session, PRUNED, now, count=len(ids), delivered_before=before.isoformat())
    return len(ids)


class DeliveryPruner:
    """Every `period_s`, drops the pushes acknowledged more than `retention` ago."""

    def __init__(
        self, ctx: RoamingContext, retention: timedelta, period_s: float = 3600.0,
        batch: int = PRUNE_BATCH,
    ) -> None:  # fmt: skip
        self.ctx, self.retention, self.period_s, self.batch = ctx, retention, period_s, batch

    async def run(self) -> None:
        while True:
            await self.prune()
            await self.ctx.clock.sleep(self.period_s)

    async def prune(self) -> int:
        """One pass, batch after batch until none is full; how many rows were dropped."""
        now = self.ctx.clock.now()
        before = now - self.retention
        total = 0
        while True:
            async with self.ctx.uow() as session:
                count = await prune_batch(session, before, now, self.batch)
            total += count
            if count < self.batch:
                break
        if total:
            log.info("event=roaming_deliveries_pruned count=%s before=%s", total, before)
        return total
