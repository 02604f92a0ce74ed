"""The event log on JetStream: the outbox relayed to a stream, and a log that reads it.

The outbox stays the source of truth, written in each change's transaction. One node of the
cluster (under leadership) publishes it in log order to the stream `EVHUB_EVENTS`, each message
with its outbox id as `Nats-Msg-Id`, so that a new leader re-publishing from the checkpoint is
deduplicated by JetStream. Every node follows the stream into a bounded tail in memory: readers
there (consumers, the SSE feed) are woken by every node's events as they are published, and a
reader behind the tail catches up from the outbox table. Positions are the outbox's own, so
checkpoints and `Last-Event-ID` mean the same on every node.
"""

from __future__ import annotations

import bisect
import json
import logging
import time
from datetime import datetime, timedelta

from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy, StorageType, StreamConfig

from evhub.events.log import Doorbell, Event, Position, SqlEventLog
from evhub.events.relay import Consumer

log = logging.getLogger("evhub.cluster")

STREAM = "EVHUB_EVENTS"
SUBJECTS = "evhub.events.>"
PUBLISHER = "events.jetstream"  # the publisher's checkpoint
DUPLICATE_WINDOW_S = 120.0
TAIL_EVENTS = 20_000


async def ensure_stream(js: JetStreamContext, retention: timedelta) -> None:
    config = StreamConfig(
        name=STREAM, subjects=[SUBJECTS], storage=StorageType.FILE,
        max_age=retention.total_seconds(), duplicate_window=DUPLICATE_WINDOW_S,
    )  # fmt: skip
    try:
        await js.add_stream(config)
    except Exception:  # created by another node meanwhile, or with other limits: keep it
        await js.stream_info(STREAM)


def _encode(event: Event) -> bytes:
    return json.dumps(
        {"kind": event.kind, "at": event.at.isoformat(), "data": event.data,
         "id": event.id, "txid": event.txid}
    ).encode()  # fmt: skip


def _decode(data: bytes) -> Event:
    m = json.loads(data)
    return Event(m["kind"], datetime.fromisoformat(m["at"]), m["data"], m["id"], m["txid"])


def publisher(js: JetStreamContext) -> Consumer:
    """The relay of the outbox to the stream, as a consumer of the SQL log: each event is
    acknowledged by JetStream before the checkpoint passes it (at least once; JetStream drops a
    re-published id within its duplicate window, and readers any older one)."""

    async def publish(event: Event) -> None:
        await js.publish(
            f"evhub.events.{event.kind}", _encode(event), stream=STREAM,
            headers={"Nats-Msg-Id": str(event.id)},
        )  # fmt: skip

    return Consumer(PUBLISHER, publish)


class JetStreamEventLog:
    """Implements `evhub.events.log.EventLog`: the stream's tail, the outbox behind it."""

    def __init__(self, sql: SqlEventLog, capacity: int = TAIL_EVENTS) -> None:
        self.sql = sql
        self.capacity = capacity
        self.bell: Doorbell = sql.bell  # rung by every event received: SQL readers wake too
        self._events: list[Event] = []
        self._positions: list[Position] = []
        # Reads after `base` are answered from the tail; None while not following the stream.
        self._base: Position | None = None

    async def follow(self, js: JetStreamContext) -> None:
        """Receive the stream from its last message on; a fresh tail after every restart."""
        self._base, self._events, self._positions = None, [], []
        last = (await js.stream_info(STREAM)).state.last_seq
        config = ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                                opt_start_seq=max(last, 1))  # fmt: skip
        subscription = await js.subscribe(SUBJECTS, stream=STREAM, ordered_consumer=True,
                                          config=config)  # fmt: skip
        try:
            async for msg in subscription.messages:
                self._receive(_decode(msg.data))
        finally:
            self._base = None
            await subscription.unsubscribe()

    def _receive(self, event: Event) -> None:
        if self._base is None:  # the first message only tells where the tail starts
            self._base = event.position
            return
        if event.position <= (self._positions[-1] if self._positions else self._base):
            return  # re-published by a new leader past the duplicate window
        self._events.append(event)
        self._positions.append(event.position)
        if len(self._events) > 2 * self.capacity:
            self._base = self._positions[-self.capacity - 1]
            del self._events[: -self.capacity], self._positions[: -self.capacity]
        self.bell.ring()

    def _covers(self, after: Position) -> bool:
        return self._base is not None and after >= self._base

    async def read_after(self, after: Position, limit: int, wait_s: float = 0.0) -> list[Event]:
        if not self._covers(after):
            return await self.sql.read_after(after, limit, wait_s)
        deadline = time.monotonic() + wait_s
        while True:
            seen = self.bell.rings
            start = bisect.bisect_right(self._positions, after)
            events = self._events[start : start + limit]
            remaining = deadline - time.monotonic()
            if events or remaining <= 0 or not self._covers(after):
                return events
            await self.bell.wait(seen, remaining)

    async def head(self) -> Position:
        if self._base is not None:
            return self._positions[-1] if self._positions else self._base
        return await self.sql.head()

    async def position_of(self, event_id: int) -> Position | None:
        return await self.sql.position_of(event_id)
