"""REST routes for maintenance tickets and availability figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from evhub.auth.deps import OPERATOR, VIEWER
from evhub.deps import ClockDep, ReadSessionDep, SessionDep
from evhub.maintenance import service
from evhub.maintenance.models import TicketCause, TicketState
from evhub.maintenance.schemas import AvailabilityOut, TicketClose, TicketOut
from evhub.maintenance.uptime import availability_report
from evhub.params import DbId, Offset

router = APIRouter(tags=["maintenance"])


@router.get("/tickets", response_model=list[TicketOut], dependencies=[VIEWER])
async def list_tickets(
    session: ReadSessionDep,
    state: TicketState | None = None,
    station_id: str | None = None,
    site_id: DbId | None = None,
    cause: TicketCause | None = None,
    limit: int = Query(200, ge=1, le=5000),
    offset: Offset = 0,
) -> object:
    return await service.list_tickets(session, state, station_id, site_id, cause, limit, offset)


@router.get("/tickets/{ticket_id}", response_model=TicketOut, dependencies=[VIEWER])
async def get_ticket(ticket_id: DbId, session: ReadSessionDep) -> object:
    return await service.get_ticket(session, ticket_id)


@router.post("/tickets/{ticket_id}/close", response_model=TicketOut, dependencies=[OPERATOR])
async def close_ticket(
    ticket_id: DbId, body: TicketClose, session: SessionDep, clock: ClockDep
) -> object:
    return await service.close_by_technician(
        session, ticket_id, body.note, body.closed_by, clock.now()
    )


@router.get("/availability", response_model=AvailabilityOut, dependencies=[VIEWER])
async def availability(
    session: ReadSessionDep,
    clock: ClockDep,
    site_id: DbId | None = None,
    station_id: str | None = None,
    town: str | None = None,
    start: Annotated[datetime | None, Query(alias="from")] = None,
    end: Annotated[datetime | None, Query(alias="to")] = None,
) -> object:
    """Share of time available over [from, to) (default: the last 24 h), with the downtime
    by cause, per connector, station and site of the stations matching every filter."""
    now = clock.now()
    end = _utc(end) if end is not None else now
    start = _utc(start) if start is not None else end - timedelta(days=1)
    report = await availability_report(session, start, end, now, site_id, station_id, town)
    return AvailabilityOut.of(report)


def _utc(value: datetime) -> datetime:
    """ISO datetimes without an offset are taken as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
