"""The unit of work: one database transaction, with the events emitted in it.

The session's queued events are inserted into the outbox just before the commit, in the same
transaction (as its deferred rows, `evhub.deferred`): no change without its event, no event
without its change. After the commit the doorbell wakes this process's readers of the log.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from evhub.events.log import Doorbell
from evhub.events.outbox import discard_pending, write_pending


class UnitOfWork:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], bell: Doorbell | None = None
    ) -> None:
        self.sessions = sessions
        self.bell = bell or Doorbell()

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            try:
                async with session.begin():
                    yield session
                    written = await write_pending(session)
            finally:
                discard_pending(session)
        if written:
            self.bell.ring()
