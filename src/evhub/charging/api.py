"""REST routes for transactions."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query

from evhub.auth.deps import VIEWER
from evhub.charging import service
from evhub.charging.schemas import MeterValueOut, TransactionOut
from evhub.deps import SessionDep
from evhub.params import DbId, Offset

router = APIRouter(tags=["charging"])


@router.get("/transactions", response_model=list[TransactionOut], dependencies=[VIEWER])
async def list_transactions(
    session: SessionDep,
    station_id: str | None = None,
    state: Literal["active", "ended"] | None = None,
    limit: int = Query(200, ge=1, le=5000),
    offset: Offset = 0,
) -> object:
    return await service.list_transactions(session, station_id, state, limit, offset)


@router.get("/transactions/{transaction_id}", response_model=TransactionOut, dependencies=[VIEWER])
async def get_transaction(transaction_id: DbId, session: SessionDep) -> object:
    return await service.get_transaction(session, transaction_id)


@router.get(
    "/transactions/{transaction_id}/meter-values",
    response_model=list[MeterValueOut],
    dependencies=[VIEWER],
)
async def transaction_meter_values(transaction_id: DbId, session: SessionDep) -> object:
    await service.get_transaction(session, transaction_id)
    return await service.meter_values_of(session, transaction_id)
