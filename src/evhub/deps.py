"""FastAPI dependencies as named aliases: the request's unit of work, clock and gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from evhub.clock import Clock
from evhub.control import ChargerControl
from evhub.ocpp.context import GatewayContext


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.gateway.uow() as session:
        yield session


async def _read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A read-only session; on SQLite on its own connections, beside the writer's."""
    sessions: async_sessionmaker[AsyncSession] = request.app.state.read_sessions
    async with sessions() as session, session.begin():
        yield session


def _clock(request: Request) -> Clock:
    clock: Clock = request.app.state.gateway.clock
    return clock


def _control(request: Request) -> ChargerControl:
    control: ChargerControl = request.app.state.control
    return control


def _gateway(request: Request) -> GatewayContext:
    gateway: GatewayContext = request.app.state.gateway
    return gateway


# scope="function": the transaction commits before the response leaves, so that a client
# never sees a 2xx for a write that then fails to commit, nor reads before it is visible.
SessionDep = Annotated[AsyncSession, Depends(_session, scope="function")]
# Reads of list and detail routes: they see committed data only, and cannot write.
ReadSessionDep = Annotated[AsyncSession, Depends(_read_session, scope="function")]
ClockDep = Annotated[Clock, Depends(_clock)]
GatewayDep = Annotated[GatewayContext, Depends(_gateway)]
ControlDep = Annotated[ChargerControl, Depends(_control)]
