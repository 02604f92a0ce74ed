"""Reading back everything committed so far from the event log, for tests.

On PostgreSQL a committed event can wait behind a transaction still running elsewhere in the
cluster (other tests' databases share it): this reads until nothing waits, within a deadline.
"""

from __future__ import annotations

import asyncio

from evhub.events import Event, EventLog, Position
from evhub.events.log import HELD_BACK_RETRY_S, SqlEventLog
from evhub.events.tail import TailedEventLog


async def committed(
    log: SqlEventLog | TailedEventLog, after: Position, limit: int = 10_000
) -> list[Event]:
    """Read from the outbox itself (a tail may not have caught up with the last commit)."""
    sql = log.sql if isinstance(log, TailedEventLog) else log
    async with asyncio.timeout(10):
        while True:
            events, held_back = await sql.read_committed(after, limit)
            if not held_back:
                return events
            await asyncio.sleep(HELD_BACK_RETRY_S)  # a transaction elsewhere: nothing to await


class EventTail:
    """Follows the event log from where it was opened: `next(kind)` waits for the next event
    of that kind committed after the opening (bound it with `asyncio.timeout`)."""

    def __init__(self, log: EventLog, at: Position) -> None:
        self.log, self.at = log, at
        self._pending: list[Event] = []

    @classmethod
    async def open(cls, log: EventLog) -> EventTail:
        return cls(log, await log.head())

    async def next(self, kind: str) -> Event:
        while True:
            while self._pending:
                event = self._pending.pop(0)
                if event.kind == kind:
                    return event
            events = await self.log.read_after(self.at, 1000, wait_s=1.0)
            if events:
                self.at = events[-1].position
                self._pending.extend(events)
