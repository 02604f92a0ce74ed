"""Group commit for meter values: many stations' samples, one transaction.

Meter values are most of a CSMS's traffic. Each handler hands its samples to the writer and
waits until they are committed before acknowledging the station, so nothing acknowledged is
ever lost; under load one commit carries hundreds of messages instead of one.

One station's bad message must not fail the others that shared its commit: a batch that fails
is written again item by item, each in a savepoint of one transaction, so that only the items
that fail get the error and the rest commit. The queue is bounded: when the database falls
behind, handlers wait for room (and their stations for their answers) instead of memory growing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, and_, bindparam, case, func, or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.acknowledge import acknowledge, gather_batch
from evhub.charging.meters import insert_sample_rows, sample_rows
from evhub.charging.models import Transaction
from evhub.charging.samples import (
    POWER,
    SOC,
    Sample,
    SignedReading,
    energy_register_wh,
    latest,
    register_reading,
)
from evhub.charging.signed import store_signed
from evhub.events import emit
from evhub.uow import UnitOfWork

log = logging.getLogger("evhub.charging")

MAX_MESSAGES_PER_COMMIT = 500
MAX_QUEUED_MESSAGES = 4 * MAX_MESSAGES_PER_COMMIT
# How long a commit waits for more messages after the first (see `gather_batch`).
LINGER_S = 0.01


@dataclass(frozen=True)
class MeterBatchItem:
    station_id: str
    evse_id: int
    transaction_pk: int | None
    samples: Sequence[Sample]
    signed: Sequence[SignedReading] = ()  # kept only with a transaction (for its CDR)


_table = cast(Table, Transaction.__table__)
_AT = bindparam("at", type_=_table.c.sample_last_at.type)
_REGISTER_AT = bindparam("register_at", type_=_table.c.register_last_at.type)
_REGISTER_WH = bindparam("register_wh", type_=_table.c.register_last_wh.type)
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
        # SET reads the row as it was, so each of these compares with the old values; the
        # order is samples.is_newer_reading's.
        sample_last_at=case(
            (
                or_(_table.c.sample_last_at.is_(None), _table.c.sample_last_at < _AT),
                _AT,
            ),
            else_=_table.c.sample_last_at,
        ),
        register_last_at=case(
            (_REGISTER_AT.is_(None), _table.c.register_last_at),
            (
                or_(_table.c.register_last_at.is_(None), _table.c.register_last_at < _REGISTER_AT),
                _REGISTER_AT,
            ),
            else_=_table.c.register_last_at,
        ),
        register_last_wh=case(
            (_REGISTER_AT.is_(None), _table.c.register_last_wh),
            (
                or_(
                    _table.c.register_last_at.is_(None),
                    _table.c.register_last_at < _REGISTER_AT,
                    and_(
                        _table.c.register_last_at == _REGISTER_AT,
                        or_(
                            _table.c.register_last_wh.is_(None),
                            _table.c.register_last_wh < _REGISTER_WH,
                        ),
                    ),
                ),
                _REGISTER_WH,
            ),
            else_=_table.c.register_last_wh,
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
    if rows:
        await insert_sample_rows(session, rows)
    params = [_latest_params(pk, s) for pk, s in by_tx.items()]
    if params:
        await (await session.connection()).execute(_LATEST, params)
    for item in items:
        if item.transaction_pk is not None and item.signed:
            await store_signed(session, item.transaction_pk, item.signed)


def _latest_params(pk: int, samples: list[Sample]) -> dict[str, object]:
    reading = register_reading(samples)  # its value is energy_register_wh's
    return {
        "pk": pk,
        "wh": None if reading is None else reading[1],
        "power": latest(samples, POWER),
        "soc": latest(samples, SOC),
        "at": max(s.timestamp for s in samples),
        "register_at": None if reading is None else reading[0],
        "register_wh": None if reading is None else reading[1],
    }


def emit_metered(session: AsyncSession, items: list[MeterBatchItem]) -> None:
    """The events of written items (apart from the writes: an item whose write is undone in
    its savepoint must leave no event behind)."""
    for item in items:
        if item.transaction_pk is not None and item.samples:
            samples = list(item.samples)
            emit(
                session,
                "transaction.metered",
                max(s.timestamp for s in samples),
                transaction_id=item.transaction_pk,
                station_id=item.station_id,
                evse_id=item.evse_id,
                register_wh=energy_register_wh(samples),
                power_w=latest(samples, POWER),
            )


_Pending = tuple[MeterBatchItem, "asyncio.Future[None]"]


class MeterWriter:
    def __init__(
        self, uow: UnitOfWork, max_queued: int = MAX_QUEUED_MESSAGES, linger_s: float = LINGER_S
    ) -> None:
        self._uow = uow
        self._linger_s = linger_s
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue(max_queued)
        self.commits = 0
        self.messages = 0
        self.batches_written_again = 0  # batches that failed and were written one by one
        self.isolated_failures = 0  # items that failed there, alone
        self.rescued = 0  # items that committed there despite sharing a failing batch

    @property
    def queued(self) -> int:
        return self._queue.qsize()

    async def write(self, item: MeterBatchItem) -> None:
        """Return once `item` is committed; raise if it could not be (the station retries).
        Waits for room in the queue first."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._queue.put((item, done))
        await done

    async def run(self) -> None:
        """The writer loop (owned by the supervisor)."""
        while True:
            batch: list[_Pending] = []
            await gather_batch(self._queue, batch, MAX_MESSAGES_PER_COMMIT, self._linger_s)
            try:
                async with self._uow() as session:
                    items = [item for item, _ in batch]
                    await write_batch(session, items)
                    emit_metered(session, items)
            except Exception:
                log.warning("event=meter_batch_failed messages=%d retry=one_by_one", len(batch))
                await self._write_one_by_one(batch)
                continue
            await self._settled(batch)

    async def _write_one_by_one(self, batch: list[_Pending]) -> None:
        """Each item in its own savepoint: the failing ones get their error, the rest commit."""
        failed: dict[int, Exception] = {}
        self.batches_written_again += 1
        try:
            async with self._uow() as session:
                written: list[MeterBatchItem] = []
                for index, (item, _) in enumerate(batch):
                    try:
                        async with session.begin_nested():
                            await write_batch(session, [item])
                    except Exception as exc:
                        failed[index] = exc
                        log.exception(
                            "event=meter_item_failed station=%s evse=%s",
                            item.station_id, item.evse_id,
                        )  # fmt: skip
                        continue
                    written.append(item)
                emit_metered(session, written)
        except Exception as exc:
            log.exception("event=meter_batch_failed messages=%d", len(batch))
            for _, done in batch:
                if not done.done():
                    done.set_exception(exc)
            return
        self.isolated_failures += len(failed)
        self.rescued += len(batch) - len(failed)
        for index, error in failed.items():
            if not batch[index][1].done():
                batch[index][1].set_exception(error)
        await self._settled([pending for i, pending in enumerate(batch) if i not in failed])

    async def _settled(self, batch: list[_Pending]) -> None:
        self.commits += 1
        self.messages += len(batch)
        await acknowledge([(done, None) for _, done in batch])
