"""Server-sent events read from the event log, one reader per open stream.

A stream keeps its own position (the client holds it as the last `id:` it saw), so it needs
no checkpoint row: it is a reader of the log, not a registered consumer, and does not hold
back pruning.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable

from evhub.events.log import Event, EventLog, wanted

POLL_S = 0.25  # how often an idle stream looks for a shutdown
BATCH = 200


def parse_kinds(kinds: str | None) -> frozenset[str]:
    return frozenset(k.strip() for k in (kinds or "").split(",") if k.strip())


def format_event(event: Event) -> str:
    data = json.dumps({"kind": event.kind, "at": event.at.isoformat(), **event.data})
    return f"id: {event.id}\nevent: {event.kind}\ndata: {data}\n\n"


class EventFeed:
    def __init__(self, log: EventLog, keepalive_s: float) -> None:
        self.log = log
        self.keepalive_s = keepalive_s
        self.streams = 0  # open streams, for status and tests

    async def stream(
        self,
        kinds: frozenset[str],
        last_event_id: int | None = None,
        draining: Callable[[], bool] = lambda: False,
    ) -> AsyncIterator[str]:
        self.streams += 1
        try:
            position = None
            if last_event_id is not None:
                position = await self.log.position_of(last_event_id)
            if position is None:
                position = await self.log.head()
            # The first block tells the client it is subscribed: nothing logged after it is lost.
            yield f"retry: 3000\n: subscribed kinds={','.join(sorted(kinds)) or '*'}\n\n"
            last_sent = time.monotonic()
            wait_s = min(POLL_S, self.keepalive_s)
            while not draining():
                for event in await self.log.read_after(position, BATCH, wait_s=wait_s):
                    position = event.position
                    if wanted(event.kind, kinds):
                        last_sent = time.monotonic()
                        yield format_event(event)
                if time.monotonic() - last_sent >= self.keepalive_s:
                    last_sent = time.monotonic()
                    yield ": keep-alive\n\n"
        finally:
            self.streams -= 1
