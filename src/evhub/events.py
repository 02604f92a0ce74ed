"""In-process event bus: domains publish facts, loops and feeds subscribe.

Each subscriber has a bounded queue; a subscriber that falls behind loses its oldest events
rather than slowing the publishers (the protocol handlers) down.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class Event:
    kind: str
    at: datetime
    data: dict[str, Any] = field(default_factory=dict)


class EventBus:
    def __init__(self, queue_size: int = 1000) -> None:
        self._queue_size = queue_size
        self._subscribers: set[asyncio.Queue[Event]] = set()
        self.dropped = 0

    def publish(self, event: Event) -> None:
        for queue in self._subscribers:
            if queue.full():
                queue.get_nowait()
                self.dropped += 1
            queue.put_nowait(event)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[Event]]:
        queue: asyncio.Queue[Event] = asyncio.Queue(self._queue_size)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)


def emit(session: AsyncSession, kind: str, at: datetime, **data: Any) -> None:
    """Queue an event on the session; it is published only if the transaction commits."""
    session.info.setdefault("events", []).append(Event(kind, at, data))
