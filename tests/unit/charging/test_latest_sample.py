"""A transaction keeps its newest sample's time and register reading with every write of
samples (group commit and ORM path alike), in the order that the watchdog reads them, and the
migration that added them fills them from the samples already stored."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command

from evhub.assets import service as assets
from evhub.charging import service as charging
from evhub.charging.meters import store_samples
from evhub.charging.models import Transaction
from evhub.charging.samples import ENERGY_REGISTER, POWER, Sample
from evhub.charging.service import TransactionStart
from evhub.charging.writer import MeterBatchItem, write_batch
from evhub.db import alembic_config, create_engine, migrate, session_factory
from evhub.uow import UnitOfWork

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def at(minute: int) -> datetime:
    return NOW + timedelta(minutes=minute)


def register(minute: int, wh: float, context: str = "Sample.Periodic") -> Sample:
    return Sample(at(minute), ENERGY_REGISTER, wh, "Wh", context=context)


def power(minute: int) -> Sample:
    return Sample(at(minute), POWER, 7000.0, "W")


@pytest.fixture
async def uow(database_url: str) -> AsyncIterator[UnitOfWork]:
    engine = create_engine(database_url)
    yield UnitOfWork(session_factory(engine))
    await engine.dispose()


async def _open(uow: UnitOfWork, station_id: str) -> int:
    async with uow() as s:
        site = await assets.create_site(s, NOW, f"Hub {station_id}", "Europe/Paris", 200.0)
        await assets.create_station(s, NOW, station_id, site.id, "station-password-0001")
        start = TransactionStart(station_id, 1, 1, NOW, 0, None, "1.6")
        return (await charging.open_transaction(s, NOW, start)).transaction.id


async def _latest(uow: UnitOfWork, pk: int) -> tuple[datetime | None, datetime | None, int | None]:
    async with uow() as s:
        tx = await s.get_one(Transaction, pk)
        return tx.sample_last_at, tx.register_last_at, tx.register_last_wh


# Batches in the order they arrive: late samples (older times) change nothing; another
# reading at the newest time (in another context) counts only if higher; power alone moves
# only the sample time.
BATCHES = [
    [register(10, 1000.0), power(10)],
    [register(5, 400.0)],
    [register(10, 900.0, "Sample.Clock"), register(10, 1100.0, "Transaction.Begin")],
    [power(12)],
]


async def test_the_group_commit_keeps_the_newest_sample_and_register(uow: UnitOfWork) -> None:
    pk = await _open(uow, "CP-A")
    for batch in BATCHES:
        async with uow() as s:
            await write_batch(s, [MeterBatchItem("CP-A", 1, pk, batch)])
    assert await _latest(uow, pk) == (at(12), at(10), 1100)


async def test_the_orm_path_keeps_them_in_the_same_order(uow: UnitOfWork) -> None:
    pk = await _open(uow, "CP-B")
    for batch in BATCHES:
        async with uow() as s:
            tx = await s.get_one(Transaction, pk)
            await store_samples(s, "CP-B", 1, tx, batch)
    assert await _latest(uow, pk) == (at(12), at(10), 1100)


async def test_the_migration_fills_them_from_the_stored_samples(
    uow: UnitOfWork, database_url: str
) -> None:
    pk = await _open(uow, "CP-C")
    bare = await _open(uow, "CP-D")
    async with uow() as s:
        items = [MeterBatchItem("CP-C", 1, pk, batch) for batch in BATCHES]
        await write_batch(s, items)
    await asyncio.to_thread(command.downgrade, alembic_config(database_url), "0031-1")
    await asyncio.to_thread(migrate, database_url)
    engine = create_engine(database_url)  # a new pool: the old one's statements knew 0031
    try:
        again = UnitOfWork(session_factory(engine))
        assert await _latest(again, pk) == (at(12), at(10), 1100)
        assert await _latest(again, bare) == (None, None, None)
    finally:
        await engine.dispose()
