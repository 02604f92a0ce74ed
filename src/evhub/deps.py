"""FastAPI dependencies as named aliases over the services container (`app.state.services`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.clock import Clock
from evhub.control import ChargerControl
from evhub.events.log import EventLog
from evhub.ocpp.context import GatewayContext
from evhub.services import Services
from evhub.uow import UnitOfWork


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    async with _services(request).uow() as session:
        yield session


def _uow(request: Request) -> UnitOfWork:
    return _services(request).uow


async def _read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A read-only session; on SQLite on its own connections, beside the writer's."""
    async with _services(request).read_sessions() as session, session.begin():
        yield session


def _clock(request: Request) -> Clock:
    return _services(request).clock


def _control(request: Request) -> ChargerControl:
    return _services(request).control


def _events(request: Request) -> EventLog:
    return _services(request).events


def _gateway(request: Request) -> GatewayContext:
    gateway: GatewayContext = request.app.state.gateway
    return gateway


ServicesDep = Annotated[Services, Depends(_services)]
# scope="function": the transaction commits before the response leaves, so that a client
# never sees a 2xx for a write that then fails to commit, nor reads before it is visible.
SessionDep = Annotated[AsyncSession, Depends(_session, scope="function")]
UowDep = Annotated[UnitOfWork, Depends(_uow)]
# Reads of list and detail routes: they see committed data only, and cannot write.
ReadSessionDep = Annotated[AsyncSession, Depends(_read_session, scope="function")]
ClockDep = Annotated[Clock, Depends(_clock)]
ControlDep = Annotated[ChargerControl, Depends(_control)]
EventLogDep = Annotated[EventLog, Depends(_events)]
# The gateway's own state (its connection registry): for pages that show connections.
GatewayDep = Annotated[GatewayContext, Depends(_gateway)]
