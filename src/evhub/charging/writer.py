"""Group commit for meter values: many stations' samples, one transaction.

Meter values are most of a CSMS's traffic. Each handler hands its samples to the writer and
waits until they are committed before acknowledging the station, so nothing acknowledged is
ever lost; under load one commit carries hundreds of messages instead of one.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, bindparam, case, func, or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.charging.models import Transaction
from evhub.charging.samples import POWER, SOC, Sample, energy_register_wh, latest
from evhub.charging.service import insert_sample_rows, sample_rows
from evhub.events import emit
from evhub.uow import UnitOfWork

log = logging.getLogger("evhub.charging")

MAX_MESSAGES_PER_COMMIT = 500


@dataclass(frozen=True)
class MeterBatchItem:
    station_id: str
    evse_id: int
    transaction_pk: int | None
    samples: list[Sample]


_table = cast(Table, Transaction.__table__)
_LATEST = (
    update(_table)
    .where(_table.c.id == bindparam("pk"))
    .values(
        meter_last_wh=case(
            (bindparam("wh", type_=_table.c.meter_last_wh.type).is_(None), _table.c.meter_last_wh),
            (
                or_(_table.c.meter_last_wh.is_(None), _table.c.meter_last_wh < bindparam("wh")),
                bindparam("wh"),
            ),
            else_=_table.c.meter_last_wh,
        ),
        power_last_w=func.coalesce(
            bindparam("power", type_=_table.c.power_last_w.type), _table.c.power_last_w
        ),
        soc_last_pct=func.coalesce(
            bindparam("soc", type_=_table.c.soc_last_pct.type), _table.c.soc_last_pct
        ),
    )
)


async def write_batch(session: AsyncSession, items: list[MeterBatchItem]) -> None:
    """Insert every item's samples and move each transaction's latest readings forward."""
    rows: list[dict[str, object]] = []
    by_tx: dict[int, list[Sample]] = {}
    for item in items:
        rows += sample_rows(item.station_id, item.evse_id, item.transaction_pk, item.samples)
        if item.transaction_pk is not None and item.samples:
            by_tx.setdefault(item.transaction_pk, []).extend(item.samples)
            emit(
                session,
                "transaction.metered",
                max(s.timestamp for s in item.samples),
                transaction_id=item.transaction_pk,
                station_id=item.station_id,
                evse_id=item.evse_id,
                register_wh=energy_register_wh(item.samples),
                power_w=latest(item.samples, POWER),
            )
    if rows:
        await insert_sample_rows(session, rows)
    params = [
        {"pk": pk, "wh": energy_register_wh(s), "power": latest(s, POWER), "soc": latest(s, SOC)}
        for pk, s in by_tx.items()
    ]
    if params:
        await (await session.connection()).execute(_LATEST, params)


class MeterWriter:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._queue: asyncio.Queue[tuple[MeterBatchItem, asyncio.Future[None]]] = asyncio.Queue()
        self.commits = 0
        self.messages = 0

    async def write(self, item: MeterBatchItem) -> None:
        """Return once `item` is committed; raise if its batch failed (the station retries)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((item, done))
        await done

    async def run(self) -> None:
        """The writer loop (owned by the supervisor)."""
        while True:
            batch = [await self._queue.get()]
            while len(batch) < MAX_MESSAGES_PER_COMMIT and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                async with self._uow() as session:
                    await write_batch(session, [item for item, _ in batch])
            except Exception as exc:
                log.exception("event=meter_batch_failed messages=%d", len(batch))
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            self.commits += 1
            self.messages += len(batch)
            for _, done in batch:
                if not done.done():
                    done.set_result(None)
