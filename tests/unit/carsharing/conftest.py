"""A hub in Paris with an electric and a combustion car, two members, on a fresh database of
each backend; the unit of work and the event log, to read what was published."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from evhub.accounts import service as accounts
from evhub.assets import service as assets
from evhub.carsharing import fleet, members
from evhub.carsharing.fleet import VehicleSpec
from evhub.carsharing.policy import CarsharingPolicy
from evhub.carsharing.state import Propulsion
from evhub.db import create_engine, is_sqlite, session_factory
from evhub.events import START, Event, Position
from evhub.events.log import SqlEventLog
from evhub.uow import UnitOfWork
from tests.committed_events import committed

# Wednesday 25 November 2026, 09:00 in Paris.
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
POLICY = CarsharingPolicy()
LICENCE_UNTIL = date(2030, 1, 1)


@dataclass
class Fleet:
    uow: UnitOfWork
    log: SqlEventLog
    site_id: int
    other_site_id: int
    ev_id: int  # electric, 5 seats
    van_id: int  # combustion, 7 seats
    ada: int  # members
    bo: int
    cy: int  # a driver with no licence on file
    read: Position = START

    async def published(self, prefix: str = "carsharing.") -> list[Event]:
        """The events of `prefix` published since the last call."""
        events = await committed(self.log, self.read)
        if events:
            self.read = events[-1].position
        return [e for e in events if e.kind.startswith(prefix)]


ELECTRIC = VehicleSpec(
    "EV-001-AA", "Renault", "Zoe", Propulsion.ELECTRIC, 300.0, 5, 0, battery_kwh=52.0
)
COMBUSTION = VehicleSpec(
    "VN-002-BB", "Peugeot", "Rifter", Propulsion.COMBUSTION, 700.0, 7, 0, tank_l=50.0
)


@pytest.fixture
async def cars(database_url: str) -> AsyncIterator[Fleet]:
    engine = create_engine(database_url)
    uow = UnitOfWork(session_factory(engine))
    log = SqlEventLog(uow.sessions, uow.bell, postgres=not is_sqlite(database_url))
    async with uow() as s:
        site = await assets.create_site(s, NOW, "Quai 9", "Europe/Paris", 200.0)
        site.latitude, site.longitude = 48.8566, 2.3522
        other = await assets.create_site(s, NOW, "Gare", "Europe/Paris", 100.0)
        ev = await fleet.create_vehicle(s, _at(ELECTRIC, site.id), NOW)
        van = await fleet.create_vehicle(s, _at(COMBUSTION, site.id), NOW)
        ada = await accounts.create_driver(s, "Ada", "ada@example.org", "resident", NOW)
        bo = await accounts.create_driver(s, "Bo", "bo@example.org", "visitor", NOW)
        cy = await accounts.create_driver(s, "Cy", "cy@example.org", "visitor", NOW)
        await members.register(s, ada.id, "LIC-ADA", LICENCE_UNTIL, NOW)
        await members.register(s, bo.id, "LIC-BO", LICENCE_UNTIL, NOW)
    fleet_ = Fleet(uow, log, site.id, other.id, ev.id, van.id, ada.id, bo.id, cy.id)
    fleet_.read = await log.head()
    yield fleet_
    await engine.dispose()


def _at(spec: VehicleSpec, site_id: int) -> VehicleSpec:
    return VehicleSpec(**{**spec.__dict__, "home_site_id": site_id})
