"""Acknowledged pushes past the retention are pruned; a push still owed is kept however old,
and the pushes queued behind it still wait for it."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import func, select

from evhub.clock import FrozenClock
from evhub.events.models import OutboxEvent
from evhub.roaming.context import RoamingContext
from evhub.roaming.deliveries import DeliveryLoop
from evhub.roaming.delivery_retention import PRUNED, DeliveryPruner
from evhub.roaming.models import Delivery
from tests.unit.roaming.test_deliveries import Emsp, _answer, _owe, ctx

__all__ = ["ctx"]  # the fixture, shared with the deliveries' tests
DAY = timedelta(days=1).total_seconds()


async def _rows(ctx: RoamingContext) -> list[tuple[str, str, bool]]:
    async with ctx.uow() as session:
        rows = await session.scalars(select(Delivery).order_by(Delivery.id))
        return [(d.object_key, d.method, d.delivered_at is not None) for d in rows]


class PartlyDown(Emsp):
    """An eMSP that refuses the pushes of the objects in `down`, answers the others."""

    def __init__(self) -> None:
        super().__init__(failures=0)
        self.down: set[str] = set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if any(request.url.path.endswith(key) for key in self.down):
            return httpx.Response(503, json={"status_code": 3000, "timestamp": "x"})
        return super().__call__(request)


async def test_delivered_pushes_past_the_retention_go_and_owed_ones_stay(
    ctx: RoamingContext,
) -> None:
    clock = ctx.clock
    assert isinstance(clock, FrozenClock)
    emsp = PartlyDown()
    emsp.down.add("sessions/2")
    _answer(ctx, emsp)
    loop = DeliveryLoop(ctx)
    await _owe(ctx, "sessions/1", "PUT", 1)
    await _owe(ctx, "sessions/2", "PUT", 2)
    await _owe(ctx, "sessions/2", "PATCH", 3)
    assert await loop.deliver_due() == 1  # Session 1 acknowledged 40 days before the pruning
    clock.advance(35 * DAY)
    await _owe(ctx, "sessions/3", "PUT", 4)
    assert await loop.deliver_due() == 1  # Session 3 acknowledged 5 days before it
    clock.advance(5 * DAY)

    pruner = DeliveryPruner(ctx, timedelta(days=30), batch=1)  # batches of one: loops over them
    assert await pruner.prune() == 1
    # Session 2's pushes, owed for 40 days, stay: its PUT is retried, its PATCH waits behind.
    assert await _rows(ctx) == [
        ("sessions/2", "PUT", False), ("sessions/2", "PATCH", False), ("sessions/3", "PUT", True),
    ]  # fmt: skip
    assert await pruner.prune() == 0
    async with ctx.uow() as session:
        pruned = await session.scalar(
            select(func.count()).select_from(OutboxEvent).where(OutboxEvent.kind == PRUNED)
        )
    assert pruned == 1

    # The eMSP is back: Session 2 still goes in order, its PUT, then its PATCH.
    emsp.down.clear()
    emsp.accepted.clear()
    assert await loop.deliver_due() == 1
    assert await loop.deliver_due() == 1
    assert [(m, body["n"]) for m, _, body in emsp.accepted] == [("PUT", 2), ("PATCH", 3)]
    clock.advance(31 * DAY)
    assert await pruner.prune() == 3
    assert await _rows(ctx) == []
