"""Transactions by site, station, state and start date: the console's list and its CSV."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.assets.models import Station
from evhub.charging.models import Transaction


@dataclass(frozen=True)
class TransactionFilter:
    site_id: int | None = None
    station_id: str | None = None
    state: str | None = None
    started_from: datetime | None = None
    started_before: datetime | None = None
    id_token: str | None = None


async def find_transactions(
    session: AsyncSession, f: TransactionFilter, limit: int = 200, offset: int = 0
) -> list[Transaction]:
    """Newest first."""
    query = select(Transaction)
    if f.site_id is not None:
        query = query.join(Station, Station.id == Transaction.station_id).where(
            Station.site_id == f.site_id
        )
    if f.station_id:
        query = query.where(Transaction.station_id == f.station_id)
    if f.state:
        query = query.where(Transaction.state == f.state)
    if f.started_from is not None:
        query = query.where(Transaction.started_at >= f.started_from)
    if f.started_before is not None:
        query = query.where(Transaction.started_at < f.started_before)
    if f.id_token:
        query = query.where(Transaction.id_token == f.id_token)
    query = query.order_by(Transaction.started_at.desc(), Transaction.id.desc())
    return list((await session.execute(query.limit(limit).offset(offset))).scalars())
