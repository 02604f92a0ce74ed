"""Retention: the log keeps what some consumer still needs, and not forever.

A row is deleted once it is older than `retention` AND every registered consumer has
processed it. A consumer that stops advancing would keep the log growing without bound, so
past `max_retention` a row is deleted whatever the checkpoints say: the consumers behind it
are logged as lagging, with how many events they will never see. The bound wins because a
full disk stops every writer, and the facts themselves stay in their own tables.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import ColumnElement, Table, and_, delete, func, or_, select, tuple_

from evhub.events import checkpoints
from evhub.events.log import Position
from evhub.events.models import OutboxEvent
from evhub.uow import UnitOfWork

log = logging.getLogger("evhub.events")

_T = cast(Table, OutboxEvent.__table__)


def _wall_clock() -> datetime:
    return datetime.now(UTC)  # rows carry the database's time of recording, not a demo clock


class Pruner:
    def __init__(
        self,
        uow: UnitOfWork,
        consumers: Callable[[], Collection[str]],
        retention: timedelta,
        max_retention: timedelta,
        interval_s: float = 300.0,
        batch_size: int = 5000,
        now: Callable[[], datetime] = _wall_clock,
    ) -> None:
        self.uow = uow
        self.consumers = consumers
        self.retention = retention
        self.max_retention = max(max_retention, retention)
        self.interval_s = interval_s
        self.batch_size = batch_size
        self.now = now

    async def run(self) -> None:
        while True:
            await self.prune()
            await asyncio.sleep(self.interval_s)

    async def prune(self) -> int:
        """Delete what retention allows, in batches of one transaction each; how many."""
        now = self.now()
        async with self.uow() as session:
            behind = await checkpoints.positions(session, self.consumers())
        floor = min(behind.values(), default=None)
        expired = _T.c.recorded_at < now - self.max_retention
        if floor is None:
            done: ColumnElement[bool] = _T.c.recorded_at < now - self.retention
        else:
            done = and_(_T.c.recorded_at < now - self.retention, _position() <= tuple_(*floor))
        await self._report_lagging(behind, expired)
        deleted = 0
        while True:
            batch = select(_T.c.id).where(or_(done, expired)).order_by(_T.c.id)
            async with self.uow() as session:
                result = await session.execute(
                    delete(_T).where(_T.c.id.in_(batch.limit(self.batch_size).scalar_subquery()))
                )
            count = int(getattr(result, "rowcount", 0) or 0)
            deleted += count
            if count < self.batch_size:
                break
        if deleted:
            log.info("event=outbox_pruned rows=%d", deleted)
        return deleted

    async def _report_lagging(
        self, behind: dict[str, Position], expired: ColumnElement[bool]
    ) -> None:
        for name, position in behind.items():
            async with self.uow() as session:
                lost = await session.scalar(
                    select(func.count())
                    .select_from(_T)
                    .where(expired, _position() > tuple_(*position))
                )
            if lost:
                log.error(
                    "consumer=%s event=consumer_lagging at_id=%d events_lost=%d",
                    name, position.id, lost,
                )  # fmt: skip


def _position() -> ColumnElement[tuple[int, int]]:
    return tuple_(_T.c.txid, _T.c.id)
