"""The open-data descriptions of the network, its sites and its points: read and written."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.assets import service as assets
from evhub.errors import Conflict, NotFound
from evhub.events import emit
from evhub.reporting.models import IrveOperator, IrvePointDetails, IrveSiteDetails
from evhub.reporting.schemas import OperatorIn, PointOpenDataIn, SiteOpenDataIn

OPERATOR_ROW = 1


async def get_operator(session: AsyncSession) -> IrveOperator | None:
    return await session.get(IrveOperator, OPERATOR_ROW)


async def set_operator(session: AsyncSession, body: OperatorIn, now: datetime) -> IrveOperator:
    row = await get_operator(session)
    if row is None:
        row = IrveOperator(id=OPERATOR_ROW, **body.model_dump(), updated_at=now)
        session.add(row)
    else:
        for name, value in body.model_dump().items():
            setattr(row, name, value)
        row.updated_at = now
    await session.flush()
    emit(session, "open_data.operator_described", now, afirev_operator_id=row.afirev_operator_id)
    return row


async def get_site_details(session: AsyncSession, site_id: int) -> IrveSiteDetails:
    row = await session.get(IrveSiteDetails, site_id)
    if row is None:
        raise NotFound(f"site {site_id} has no open-data description")
    return row


async def set_site_details(
    session: AsyncSession, site_id: int, body: SiteOpenDataIn, now: datetime
) -> IrveSiteDetails:
    await assets.get_site(session, site_id)
    row = await session.get(IrveSiteDetails, site_id)
    if row is None:
        row = IrveSiteDetails(site_id=site_id, **body.model_dump(), updated_at=now)
        session.add(row)
    else:
        for name, value in body.model_dump().items():
            setattr(row, name, value)
        row.updated_at = now
    await session.flush()
    emit(session, "open_data.site_described", now, site_id=site_id)
    return row


async def get_point_details(
    session: AsyncSession, station_id: str, evse_id: int
) -> IrvePointDetails:
    row = await _point(session, station_id, evse_id)
    if row is None:
        raise NotFound(f"EVSE {evse_id} of {station_id!r} has no open-data description")
    return row


async def set_point_details(
    session: AsyncSession, station_id: str, evse_id: int, body: PointOpenDataIn, now: datetime
) -> IrvePointDetails:
    station = await assets.get_station(session, station_id)
    if evse_id not in {e.evse_id for e in station.evses}:
        raise NotFound(f"station {station_id!r} has no EVSE {evse_id}")
    if body.afirev_id is not None:
        taken = await session.scalar(
            select(IrvePointDetails).where(IrvePointDetails.afirev_id == body.afirev_id)
        )
        if taken is not None and (taken.station_id, taken.evse_id) != (station_id, evse_id):
            raise Conflict(f"{body.afirev_id} is the id of another point")
    row = await _point(session, station_id, evse_id)
    if row is None:
        row = IrvePointDetails(
            station_id=station_id, evse_id=evse_id, **body.model_dump(), updated_at=now
        )
        session.add(row)
    else:
        for name, value in body.model_dump().items():
            setattr(row, name, value)
        row.updated_at = now
    await session.flush()
    emit(session, "open_data.point_described", now, station_id=station_id, evse_id=evse_id)
    return row


async def all_site_details(session: AsyncSession) -> dict[int, IrveSiteDetails]:
    rows = (await session.execute(select(IrveSiteDetails))).scalars()
    return {row.site_id: row for row in rows}


async def all_point_details(session: AsyncSession) -> dict[tuple[str, int], IrvePointDetails]:
    rows = (await session.execute(select(IrvePointDetails))).scalars()
    return {(row.station_id, row.evse_id): row for row in rows}


async def _point(session: AsyncSession, station_id: str, evse_id: int) -> IrvePointDetails | None:
    query = select(IrvePointDetails).where(
        IrvePointDetails.station_id == station_id, IrvePointDetails.evse_id == evse_id
    )
    return (await session.execute(query)).scalar_one_or_none()
