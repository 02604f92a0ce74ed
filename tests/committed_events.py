"""Reading back everything committed so far from the event log, for tests.

On PostgreSQL a committed event can wait behind a transaction still running elsewhere in the
cluster (other tests' databases share it): this reads until nothing waits, within a deadline.
"""

from __future__ import annotations

import asyncio

from evhub.events import Event, Position
from evhub.events.log import HELD_BACK_RETRY_S, SqlEventLog


async def committed(log: SqlEventLog, after: Position, limit: int = 10_000) -> list[Event]:
    async with asyncio.timeout(10):
        while True:
            events, held_back = await log.read_committed(after, limit)
            if not held_back:
                return events
            await asyncio.sleep(HELD_BACK_RETRY_S)  # a transaction elsewhere: nothing to await
