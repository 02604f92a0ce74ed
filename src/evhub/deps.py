"""FastAPI dependencies as named aliases: the request's unit of work, clock and gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.clock import Clock
from evhub.control import ChargerControl
from evhub.ocpp.context import GatewayContext


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.gateway.uow() as session:
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
ClockDep = Annotated[Clock, Depends(_clock)]
GatewayDep = Annotated[GatewayContext, Depends(_gateway)]
ControlDep = Annotated[ChargerControl, Depends(_control)]
