"""The newest events in memory, read once from their source and shared by this process's readers.

Every consumer reads the log from its own checkpoint. Reading the outbox table once per consumer
costs a query and a JSON parse per event and per consumer: under meter traffic, with a dozen
consumers, that was two fifths of the gateway's time. One follower reads each event once, in log
order, into a bounded tail; a reader whose position the tail covers is answered from memory, and
one behind it (a consumer catching up, a feed resumed from an old id) reads the outbox.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections.abc import Iterable

from evhub.events.log import Doorbell, Event, Position, SqlEventLog

TAIL_EVENTS = 20_000
FOLLOW_BATCH = 1000
# After a read that found events, the follower waits this long before the next one, so that
# under traffic one read takes the events of several commits instead of one read per commit.
FOLLOW_LINGER_S = 0.01


class EventTail:
    """Events after `base` in log order, at most about twice `capacity` of them."""

    def __init__(self, bell: Doorbell, capacity: int = TAIL_EVENTS) -> None:
        self.bell = bell  # rung by every event received
        self.capacity = capacity
        self._events: list[Event] = []
        self._positions: list[Position] = []
        self.base: Position | None = None  # None: not following, nothing is covered

    def start_at(self, base: Position) -> None:
        self.base, self._events, self._positions = base, [], []

    def stop(self) -> None:
        self.base, self._events, self._positions = None, [], []

    @property
    def last(self) -> Position | None:
        return self._positions[-1] if self._positions else self.base

    def receive(self, event: Event) -> None:
        """Append an event; one at or before the last (a duplicate) is dropped."""
        self.receive_all((event,))

    def receive_all(self, events: Iterable[Event]) -> None:
        """Append events in log order and wake the readers once, not once per event: each
        wake-up is a turn of every consumer's loop."""
        appended = False
        for event in events:
            last = self.last
            if last is None or event.position <= last:
                continue
            self._events.append(event)
            self._positions.append(event.position)
            appended = True
        if len(self._events) > 2 * self.capacity:
            self.base = self._positions[-self.capacity - 1]
            del self._events[: -self.capacity], self._positions[: -self.capacity]
        if appended:
            self.bell.ring()

    def covers(self, after: Position) -> bool:
        return self.base is not None and after >= self.base

    async def read_after(self, after: Position, limit: int, wait_s: float) -> list[Event]:
        """What the tail holds after `after`, waiting up to `wait_s` for one; [] once the tail
        no longer covers `after` (the caller reads the source then)."""
        deadline = time.monotonic() + wait_s
        while True:
            # Checked before every read: while a reader waited, the tail may have dropped the
            # events just after `after`, and what it holds then starts past a gap.
            if not self.covers(after):
                return []
            seen = self.bell.rings
            start = bisect.bisect_right(self._positions, after)
            events = self._events[start : start + limit]
            remaining = deadline - time.monotonic()
            if events or remaining <= 0:
                return events
            await self.bell.wait(seen, remaining)


class TailedEventLog:
    """Implements `EventLog`: a tail fed by a follower of the subclass, the outbox behind it."""

    def __init__(self, sql: SqlEventLog, tail: EventTail) -> None:
        self.sql = sql
        self.tail = tail

    async def read_after(self, after: Position, limit: int, wait_s: float = 0.0) -> list[Event]:
        if not self.tail.covers(after):
            return await self.sql.read_after(after, limit, wait_s)
        return await self.tail.read_after(after, limit, wait_s)

    async def head(self) -> Position:
        return self.tail.last or await self.sql.head()

    async def position_of(self, event_id: int) -> Position | None:
        return await self.sql.position_of(event_id)


class OutboxTail(TailedEventLog):
    """The outbox table read once per process, by `follow`."""

    def __init__(
        self,
        sql: SqlEventLog,
        poll_s: float,
        capacity: int = TAIL_EVENTS,
        linger_s: float = FOLLOW_LINGER_S,
    ) -> None:
        super().__init__(sql, EventTail(Doorbell(), capacity))
        self.poll_s = poll_s  # rows committed by other processes ring no bell here
        self.linger_s = linger_s
        self.following = asyncio.Event()  # set while the tail covers the newest events

    async def follow(self) -> None:
        """Read the outbox from its head on, for ever (a supervised loop): a fresh tail at
        every start, so that nothing read before a failure is trusted after it."""
        self.tail.start_at(await self.sql.head())
        self.following.set()
        try:
            while True:
                last = self.tail.last
                assert last is not None
                events = await self.sql.read_after(last, FOLLOW_BATCH, self.poll_s)
                self.tail.receive_all(events)
                if events and len(events) < FOLLOW_BATCH:
                    await asyncio.sleep(self.linger_s)
        finally:
            self.following.clear()
            self.tail.stop()
