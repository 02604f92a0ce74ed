"""Maintenance tickets: open or update on a finding, close on a clearance or by a technician."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.assets.models import Station
from evhub.errors import NotFound
from evhub.events import emit
from evhub.maintenance.detectors import Clearance, Finding, TicketKey, Verdict
from evhub.maintenance.models import Ticket, TicketCause, TicketState, open_key

SYSTEM = "system"


async def apply(session: AsyncSession, verdict: Verdict, now: datetime) -> Ticket | None:
    """Act on one detector verdict; the ticket it touched, if any."""
    if isinstance(verdict, Finding):
        return await open_or_update(session, verdict, now)
    return await clear(session, verdict, now)


async def open_or_update(session: AsyncSession, finding: Finding, now: datetime) -> Ticket:
    """Open a ticket for the finding's key, or count one more occurrence on the open one."""
    ticket = await find_open(session, finding.key)
    if ticket is not None:
        if not finding.ongoing:
            ticket.record_occurrence(finding.at, finding.detail, finding.severity, now)
            emit(session, "ticket.updated", now, **summary(ticket))
        return ticket
    key = finding.key
    ticket = Ticket(
        station_id=key.station_id,
        evse_id=key.evse_id,
        connector_id=key.connector_id,
        transaction_id=finding.transaction_id,
        cause=key.cause,
        open_key=_open_key(key),
        severity=finding.severity,
        detail=finding.detail[:255],
        state=TicketState.OPEN,
        first_seen=finding.started,
        last_seen=max(finding.at, finding.started),
        count=1,
        created_at=now,
        updated_at=now,
    )
    session.add(ticket)
    await session.flush()
    emit(session, "ticket.opened", now, **summary(ticket))
    return ticket


async def clear(session: AsyncSession, clearance: Clearance, now: datetime) -> Ticket | None:
    """Close the open ticket of the clearance's key (none open: nothing to do)."""
    ticket = await find_open(session, clearance.key)
    if ticket is None:
        return None
    ticket.close(clearance.at, SYSTEM, now, clearance.reason)
    emit(session, "ticket.closed", now, **summary(ticket))
    return ticket


async def close_by_technician(
    session: AsyncSession, ticket_id: int, note: str, closed_by: str, now: datetime
) -> Ticket:
    """A technician closes a ticket by hand (409 if it is closed already)."""
    ticket = await get_ticket(session, ticket_id, for_update=True)
    ticket.close(now, closed_by, now, note)
    emit(session, "ticket.closed", now, **summary(ticket))
    return ticket


async def find_open(session: AsyncSession, key: TicketKey) -> Ticket | None:
    query = select(Ticket).where(Ticket.open_key == _open_key(key)).with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def is_open(session: AsyncSession, key: TicketKey) -> bool:
    """Whether a ticket of the key is open (a look, no lock)."""
    query = select(Ticket.id).where(Ticket.open_key == _open_key(key))
    return (await session.execute(query)).first() is not None


def _open_key(key: TicketKey) -> str:
    return open_key(key.station_id, key.evse_id, key.connector_id, key.cause)


async def open_tickets(session: AsyncSession, causes: Iterable[TicketCause]) -> list[Ticket]:
    query = select(Ticket).where(Ticket.state == TicketState.OPEN, Ticket.cause.in_(list(causes)))
    return list((await session.execute(query.order_by(Ticket.id))).scalars())


async def get_ticket(session: AsyncSession, ticket_id: int, for_update: bool = False) -> Ticket:
    query = select(Ticket).where(Ticket.id == ticket_id)
    if for_update:
        query = query.with_for_update()
    ticket = (await session.execute(query)).scalar_one_or_none()
    if ticket is None:
        raise NotFound(f"ticket {ticket_id} not found")
    return ticket


async def list_tickets(
    session: AsyncSession,
    state: TicketState | None = None,
    station_id: str | None = None,
    site_id: int | None = None,
    cause: TicketCause | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[Ticket]:
    query = select(Ticket)
    if state is not None:
        query = query.where(Ticket.state == state)
    if station_id is not None:
        query = query.where(Ticket.station_id == station_id)
    if site_id is not None:
        query = query.join(Station, Station.id == Ticket.station_id).where(
            Station.site_id == site_id
        )
    if cause is not None:
        query = query.where(Ticket.cause == cause)
    query = query.order_by(Ticket.first_seen.desc(), Ticket.id.desc()).limit(limit).offset(offset)
    return list((await session.execute(query)).scalars())


def summary(ticket: Ticket) -> dict[str, object]:
    """What the event feed says of a ticket."""
    return {
        "ticket_id": ticket.id,
        "station_id": ticket.station_id,
        "evse_id": ticket.evse_id,
        "connector_id": ticket.connector_id,
        "cause": ticket.cause,
        "severity": ticket.severity,
        "state": ticket.state,
        "detail": ticket.detail,
        "count": ticket.count,
        "first_seen": ticket.first_seen.isoformat(),
        "closed_at": ticket.closed_at.isoformat() if ticket.closed_at else None,
        "downtime_s": ticket.downtime_s,
        "closed_by": ticket.closed_by,
    }
