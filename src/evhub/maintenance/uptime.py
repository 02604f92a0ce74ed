"""Availability figures of a scope (connector, station, site, town) read from the database.

The status history gives the connector states and the offline tickets give the outages; the
pure `availability` function does the arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.assets.models import Connector, Evse, Site, Station, StatusRecord
from evhub.errors import InvalidInput
from evhub.maintenance.availability import (
    ConnectorKey,
    Figures,
    Outage,
    Period,
    StatusPoint,
    availability,
    combine,
)
from evhub.maintenance.models import Ticket, TicketCause


@dataclass(frozen=True)
class StationScope:
    station_id: str
    site_id: int
    site_name: str
    town: str


@dataclass(frozen=True)
class AvailabilityReport:
    period: Period
    total: Figures
    sites: list[tuple[StationScope, Figures]]
    stations: list[tuple[StationScope, Figures]]
    connectors: dict[ConnectorKey, Figures]


async def availability_report(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    now: datetime,
    site_id: int | None = None,
    station_id: str | None = None,
    town: str | None = None,
) -> AvailabilityReport:
    """Figures over [start, min(end, now)) of the stations matching every filter given."""
    if start >= now:
        raise InvalidInput("the period starts in the future")
    period = Period(start, min(end, now))
    scopes = await _stations(session, site_id, station_id, town)
    ids = [s.station_id for s in scopes]
    figures = availability(
        await _status_points(session, ids, period),
        period,
        await _outages(session, ids, period),
        await _connectors(session, ids),
    )
    by_station = {
        scope.station_id: combine(f for key, f in figures.items() if key[0] == scope.station_id)
        for scope in scopes
    }
    sites: dict[int, tuple[StationScope, Figures]] = {}
    for scope in scopes:
        previous = sites.get(scope.site_id, (scope, Figures()))[1]
        sites[scope.site_id] = (scope, previous + by_station[scope.station_id])
    return AvailabilityReport(
        period,
        combine(by_station.values()),
        list(sites.values()),
        [(scope, by_station[scope.station_id]) for scope in scopes],
        figures,
    )


async def _stations(
    session: AsyncSession, site_id: int | None, station_id: str | None, town: str | None
) -> list[StationScope]:
    query = select(Station.id, Station.site_id, Site.name, Site.town).join(Site)
    if site_id is not None:
        query = query.where(Station.site_id == site_id)
    if station_id is not None:
        query = query.where(Station.id == station_id)
    if town is not None:
        query = query.where(func.lower(Site.town) == town.lower())
    rows = await session.execute(query.order_by(Station.site_id, Station.id))
    return [StationScope(*row) for row in rows]


async def _connectors(session: AsyncSession, station_ids: list[str]) -> list[ConnectorKey]:
    rows = await session.execute(
        select(Evse.station_id, Evse.evse_id, Connector.connector_id)
        .join(Connector, Connector.evse_pk == Evse.id)
        .where(Evse.station_id.in_(station_ids))
    )
    return [(station, evse, connector) for station, evse, connector in rows]


async def _status_points(
    session: AsyncSession, station_ids: list[str], period: Period
) -> list[StatusPoint]:
    """Each connector's reports within the period, and its last one before it."""
    in_scope = StatusRecord.station_id.in_(station_ids)
    before = (
        select(
            StatusRecord.station_id,
            StatusRecord.evse_id,
            StatusRecord.connector_id,
            func.max(StatusRecord.timestamp).label("at"),
        )
        .where(in_scope, StatusRecord.timestamp < period.start)
        .group_by(StatusRecord.station_id, StatusRecord.evse_id, StatusRecord.connector_id)
        .subquery()
    )
    last_before = and_(
        StatusRecord.station_id == before.c.station_id,
        StatusRecord.evse_id == before.c.evse_id,
        StatusRecord.connector_id == before.c.connector_id,
        StatusRecord.timestamp == before.c.at,
    )
    within = and_(StatusRecord.timestamp >= period.start, StatusRecord.timestamp < period.end)
    query = (
        select(StatusRecord)
        .outerjoin(before, last_before)
        .where(in_scope, or_(within, before.c.at.is_not(None)))
        .order_by(StatusRecord.timestamp, StatusRecord.id)
    )
    return [
        StatusPoint(r.station_id, r.evse_id, r.connector_id, r.status, r.timestamp)
        for r in (await session.execute(query)).scalars()
    ]


async def _outages(session: AsyncSession, station_ids: list[str], period: Period) -> list[Outage]:
    query = select(Ticket).where(
        Ticket.station_id.in_(station_ids),
        Ticket.cause == TicketCause.OFFLINE,
        Ticket.first_seen < period.end,
        or_(Ticket.closed_at.is_(None), Ticket.closed_at > period.start),
    )
    return [
        Outage(t.station_id, t.first_seen, t.closed_at)
        for t in (await session.execute(query)).scalars()
    ]
