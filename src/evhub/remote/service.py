"""Remote operations: resolve what the operator means, then ask the station through the port."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.assets import service as assets
from evhub.assets.models import Station, StationEvent
from evhub.charging import service as charging
from evhub.control import ChargerControl, CommandResult
from evhub.errors import Conflict, InvalidInput, StationTimeout, StationUnavailable
from evhub.uow import UnitOfWork

BULK_CONCURRENCY = 50
UPLOAD_KIND = "log_upload"


def new_request_id() -> int:
    """Request ids tie a station's later status notifications to the operator's request."""
    return secrets.randbelow(2**31 - 1) + 1


async def remote_stop(
    uow: UnitOfWork, control: ChargerControl, station_id: str, transaction_pk: int
) -> CommandResult:
    """The station is called once the transaction's check is over, never inside it."""
    async with uow() as session:
        tx = await charging.get_transaction(session, transaction_pk)
        if tx.station_id != station_id:
            raise InvalidInput(f"transaction {transaction_pk} is not on station {station_id!r}")
        if tx.state != "active":
            raise Conflict(f"transaction {transaction_pk} has ended already")
        ocpp_transaction_id = tx.ocpp_transaction_id
    return await control.remote_stop(station_id, ocpp_transaction_id)


async def matching_stations(
    session: AsyncSession,
    site_id: int | None,
    vendor: str | None,
    model: str | None,
    station_ids: list[str] | None,
) -> list[str]:
    query = select(Station.id).order_by(Station.id)
    if site_id is not None:
        query = query.where(Station.site_id == site_id)
    if vendor is not None:
        query = query.where(Station.vendor == vendor)
    if model is not None:
        query = query.where(Station.model == model)
    if station_ids is not None:
        query = query.where(Station.id.in_(station_ids))
    return list((await session.execute(query)).scalars())


async def run_bulk(
    station_ids: list[str],
    operation: Callable[[str], Awaitable[CommandResult]],
    on_done: Callable[[str, CommandResult], None] | None = None,
) -> dict[str, CommandResult]:
    """Run `operation` on every station, a bounded number at once; one result per station."""
    gate = asyncio.Semaphore(BULK_CONCURRENCY)
    results: dict[str, CommandResult] = {}

    async def one(station_id: str) -> None:
        async with gate:
            try:
                result = await operation(station_id)
            except StationTimeout as exc:
                result = CommandResult("Timeout", {"reason": exc.message})
            except StationUnavailable as exc:
                result = CommandResult("Offline", {"reason": exc.message})
        results[station_id] = result
        if on_done is not None:
            on_done(station_id, result)

    async with asyncio.TaskGroup() as group:
        for station_id in station_ids:
            group.create_task(one(station_id))
    return {sid: results[sid] for sid in station_ids}


def upload_path(root: Path, station_id: str, request_id: int, filename: str) -> Path:
    safe = Path(filename).name
    if not safe or safe in (".", ".."):
        raise InvalidInput("bad file name")
    return root / "uploads" / station_id / str(request_id) / safe


async def check_upload_open(session: AsyncSession, station_id: str, request_id: int) -> None:
    """An upload URL takes one file: refuse early once its request has one (the unique index
    `uq_station_events_one_upload` is what holds when two uploads race)."""
    await assets.get_station(session, station_id)
    query = select(StationEvent.id).where(
        StationEvent.station_id == station_id,
        StationEvent.request_id == request_id,
        StationEvent.kind == UPLOAD_KIND,
    )
    if (await session.execute(query)).first() is not None:
        raise Conflict(f"request {request_id} has its upload already")


async def record_upload(
    session: AsyncSession, station_id: str, request_id: int, path: Path, size: int, now: datetime
) -> None:
    await assets.get_station(session, station_id)
    try:
        async with session.begin_nested():
            await assets.record_station_event(
                session, station_id, UPLOAD_KIND, "Received", now, f"{path} ({size} bytes)",
                request_id,
            )  # fmt: skip
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"request {request_id} has its upload already") from exc
