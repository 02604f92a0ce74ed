"""Storing meter samples: append-only rows, a retried sample skipped by its unique key."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.charging.models import MeterValue, Transaction
from evhub.charging.samples import (
    POWER,
    SOC,
    Sample,
    is_newer_reading,
    latest,
    register_reading,
)

_METER_TABLE = cast(Table, MeterValue.__table__)


async def store_samples(
    session: AsyncSession,
    station_id: str,
    evse_id: int,
    tx: Transaction | None,
    samples: Sequence[Sample],
) -> int:
    """Insert samples, ignoring ones already stored; keep the transaction's latest reading."""
    inserted = await insert_sample_rows(
        session, sample_rows(station_id, evse_id, tx.id if tx else None, samples)
    )
    if tx is not None:
        update_latest(tx, samples)
    return inserted


def sample_rows(
    station_id: str, evse_id: int, transaction_pk: int | None, samples: Sequence[Sample]
) -> list[dict[str, object]]:
    return [
        {
            "station_id": station_id,
            "evse_id": evse_id,
            "transaction_pk": transaction_pk,
            "timestamp": s.timestamp,
            "measurand": s.measurand,
            "phase": s.phase,
            "context": s.context,
            "value": s.value,
            "unit": s.unit,
        }
        for s in samples
    ]


_INSERTS = {
    "postgresql": postgresql.insert(_METER_TABLE).on_conflict_do_nothing(),
    "sqlite": sqlite.insert(_METER_TABLE).on_conflict_do_nothing(),
}


async def insert_sample_rows(session: AsyncSession, rows: list[dict[str, object]]) -> int:
    """Insert meter value rows; a row already stored (a retried message) is skipped.

    One statement executed with many parameter sets: SQLAlchemy compiles it once (cached) and
    sends it as multi-row VALUES in pages ("insertmanyvalues"), where a statement built with
    the rows' values would be compiled again for every batch size (measured under load: a
    sixth of the gateway's time). RETURNING counts the rows stored, skipped ones excluded.
    """
    if not rows:
        return 0
    statement = _INSERTS[session.get_bind().dialect.name].returning(_METER_TABLE.c.id)
    return len((await session.execute(statement, rows)).all())


def update_latest(tx: Transaction, samples: Sequence[Sample]) -> None:
    batch = list(samples)
    reading = register_reading(batch)
    if reading is not None and reading[1] >= (tx.meter_last_wh or 0):
        tx.meter_last_wh = reading[1]
    power = latest(batch, POWER)
    if power is not None:
        tx.power_last_w = power
    soc = latest(batch, SOC)
    if soc is not None:
        tx.soc_last_pct = soc
    if batch:
        newest = max(s.timestamp for s in batch)
        if tx.sample_last_at is None or newest > tx.sample_last_at:
            tx.sample_last_at = newest
    if reading is not None and is_newer_reading(reading, tx.register_last_at, tx.register_last_wh):
        tx.register_last_at, tx.register_last_wh = reading
