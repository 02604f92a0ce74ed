"""A hub in Paris with two AC stations and a DC one, a resident and a visitor, on a fresh
database of each backend; the unit of work and the event log, to read what was published."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from evhub.accounts import service as accounts
from evhub.assets import service as assets
from evhub.db import create_engine, is_sqlite, session_factory
from evhub.events import START, Event, Position
from evhub.events.log import SqlEventLog
from evhub.reservations.policy import BookingPolicy
from evhub.uow import UnitOfWork
from tests.committed_events import committed

# Wednesday 25 November 2026, 09:00 in Paris.
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
POLICY = BookingPolicy()


@dataclass
class Hub:
    uow: UnitOfWork
    log: SqlEventLog
    site_id: int
    resident_id: int
    visitor_id: int
    read: Position = START

    async def published(self) -> list[Event]:
        """The reservation events published since the last call."""
        events = await committed(self.log, self.read)
        if events:
            self.read = events[-1].position
        return [e for e in events if e.kind.startswith("reservation.")]


@pytest.fixture
async def hub(database_url: str) -> AsyncIterator[Hub]:
    engine = create_engine(database_url)
    uow = UnitOfWork(session_factory(engine))
    log = SqlEventLog(uow.sessions, uow.bell, postgres=not is_sqlite(database_url))
    async with uow() as s:
        site = await assets.create_site(s, NOW, "Quai 9", "Europe/Paris", 200.0)
        ac = [assets.EvseSpec(1, "AC", 3, 22.0), assets.EvseSpec(2, "AC", 3, 11.0)]
        await assets.create_station(s, NOW, "CP-A", site.id, "station-password-0001", ac)
        await assets.create_station(
            s, NOW, "CP-B", site.id, "station-password-0001", [assets.EvseSpec(1, "AC")]
        )
        dc = [assets.EvseSpec(1, "DC", 3, 150.0)]
        await assets.create_station(s, NOW, "CP-D", site.id, "station-password-0001", dc)
        resident = await accounts.create_driver(s, "Ada", "ada@example.org", "resident", NOW)
        visitor = await accounts.create_driver(s, "Bo", "bo@example.org", "visitor", NOW)
        await accounts.create_token(s, "ADA-1", "ISO14443", "Accepted", NOW, resident.id, "FLAT-3")
        await accounts.create_token(s, "BO-1", "ISO14443", "Accepted", NOW, visitor.id)
    hub = Hub(uow, log, site.id, resident.id, visitor.id)
    hub.read = await log.head()
    yield hub
    await engine.dispose()
