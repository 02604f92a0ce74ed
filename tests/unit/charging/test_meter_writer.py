"""The meter writer: one failing message fails alone, its batch commits; the queue is bounded."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from evhub.assets import service as assets
from evhub.charging import service as charging
from evhub.charging.models import MeterValue
from evhub.charging.samples import Sample
from evhub.charging.service import TransactionStart
from evhub.charging.writer import MeterBatchItem, MeterWriter
from evhub.db import create_engine, is_sqlite, session_factory
from evhub.events import Position
from evhub.events.log import SqlEventLog
from evhub.uow import UnitOfWork
from tests.committed_events import committed

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


@dataclass
class Meters:
    uow: UnitOfWork
    log: SqlEventLog
    read: Position
    transaction_pk: int


@pytest.fixture
async def meters(database_url: str) -> AsyncIterator[Meters]:
    engine = create_engine(database_url)
    uow = UnitOfWork(session_factory(engine))
    log = SqlEventLog(uow.sessions, uow.bell, postgres=not is_sqlite(database_url))
    async with uow() as s:
        site = await assets.create_site(s, NOW, "Quai 9", "Europe/Paris", 200.0)
        await assets.create_station(s, NOW, "CP-A", site.id, "station-password-0001")
        start = TransactionStart("CP-A", 1, 1, NOW, 0, None, "1.6")
        opened = await charging.open_transaction(s, NOW, start)
    yield Meters(uow, log, await log.head(), opened.transaction.id)
    await engine.dispose()


def _item(minute: int, transaction_pk: int | None) -> MeterBatchItem:
    at = NOW + timedelta(minutes=minute)
    sample = Sample(at, "Energy.Active.Import.Register", 100.0 * minute, "Wh")
    return MeterBatchItem("CP-A", 1, transaction_pk, [sample])


async def _stored(uow: UnitOfWork) -> int:
    async with uow() as s:
        return int(await s.scalar(select(func.count(MeterValue.id))) or 0)


async def _stop(runner: asyncio.Task[None]) -> None:
    runner.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await runner


async def _let_tasks_run() -> None:
    """Yield the loop a few turns: started tasks run up to their first wait."""
    for _ in range(3):
        await asyncio.sleep(0)


async def test_a_failing_message_fails_alone_and_its_batch_commits(meters: Meters) -> None:
    writer = MeterWriter(meters.uow)
    # A message for a transaction that does not exist breaks the foreign key.
    items = [_item(m, meters.transaction_pk) for m in range(1, 6)] + [_item(9, 999_999)]
    writes = [asyncio.create_task(writer.write(item)) for item in items]
    await _let_tasks_run()
    assert writer.queued == len(items)  # one batch, once the writer runs
    runner = asyncio.create_task(writer.run())
    try:
        async with asyncio.timeout(10):
            results = await asyncio.gather(*writes, return_exceptions=True)
    finally:
        await _stop(runner)
    assert results[:5] == [None] * 5
    assert isinstance(results[5], IntegrityError)
    assert (writer.batches_written_again, writer.isolated_failures, writer.rescued) == (1, 1, 5)
    assert await _stored(meters.uow) == 5
    events = await committed(meters.log, meters.read)
    metered = [e.data["register_wh"] for e in events if e.kind == "transaction.metered"]
    assert metered == [100, 200, 300, 400, 500]  # none for the message that failed


async def test_writers_wait_for_room_in_the_queue(meters: Meters) -> None:
    writer = MeterWriter(meters.uow, max_queued=3)
    writes = [asyncio.create_task(writer.write(_item(m, None))) for m in range(1, 6)]
    await _let_tasks_run()
    assert writer.queued == 3 and not any(w.done() for w in writes)
    runner = asyncio.create_task(writer.run())
    try:
        async with asyncio.timeout(10):
            assert await asyncio.gather(*writes) == [None] * 5
    finally:
        await _stop(runner)
    assert writer.messages == 5 and writer.queued == 0
    assert await _stored(meters.uow) == 5
