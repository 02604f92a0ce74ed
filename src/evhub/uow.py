"""The unit of work: one database transaction whose events are published after commit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from evhub.events import Event, EventBus


class UnitOfWork:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], bus: EventBus) -> None:
        self.sessions = sessions
        self.bus = bus

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            async with session.begin():
                yield session
            events: list[Event] = session.info.pop("events", [])
        for event in events:
            self.bus.publish(event)
