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

import json
import logging
from datetime import datetime, timedelta

from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy, StorageType, StreamConfig

from evhub.events.log import Event, SqlEventLog
from evhub.events.relay import Consumer
from evhub.events.tail import TAIL_EVENTS, EventTail, TailedEventLog

log = logging.getLogger("evhub.cluster")

STREAM = "EVHUB_EVENTS"
SUBJECTS = "evhub.events.>"
PUBLISHER = "events.jetstream"  # the publisher's checkpoint
DUPLICATE_WINDOW_S = 120.0


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


class JetStreamEventLog(TailedEventLog):
    """The stream's tail, the outbox behind it."""

    def __init__(self, sql: SqlEventLog, capacity: int = TAIL_EVENTS) -> None:
        # Rung by every event received: readers of the outbox on this node wake too.
        super().__init__(sql, EventTail(sql.bell, capacity))

    async def follow(self, js: JetStreamContext) -> None:
        """Receive the stream from its last message on; a fresh tail after every restart."""
        self.tail.stop()
        last = (await js.stream_info(STREAM)).state.last_seq
        config = ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                                opt_start_seq=max(last, 1))  # fmt: skip
        subscription = await js.subscribe(SUBJECTS, stream=STREAM, ordered_consumer=True,
                                          config=config)  # fmt: skip
        try:
            async for msg in subscription.messages:
                self._receive(_decode(msg.data))
        finally:
            self.tail.stop()
            await subscription.unsubscribe()

    def _receive(self, event: Event) -> None:
        if self.tail.base is None:  # the first message only tells where the tail starts
            self.tail.start_at(event.position)
            return
        self.tail.receive(event)  # one re-published by a new leader is dropped there
