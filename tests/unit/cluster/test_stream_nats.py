"""The relay and the tail over a real NATS server: published events reach a follower's tail in
order, a re-publication is dropped, and readers in the tail never touch the outbox."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import nats
import pytest
from nats.js import JetStreamContext

from evhub.cluster.local import free_port, nats_binary, start_nats
from evhub.cluster.stream import JetStreamEventLog, ensure_stream, publisher
from evhub.events.log import Position
from tests.unit.cluster.test_stream_tail import FakeOutbox, _event

pytestmark = pytest.mark.skipif(nats_binary() is None, reason="needs nats-server")


@pytest.fixture
async def js(tmp_path: Path) -> AsyncIterator[JetStreamContext]:
    port = free_port()
    process = start_nats(tmp_path / "nats", port)
    client = await nats.connect(f"nats://127.0.0.1:{port}")
    try:
        context = client.jetstream()
        await ensure_stream(context, timedelta(hours=1))
        yield context
    finally:
        await client.close()
        process.kill()
        process.wait()


async def test_published_events_reach_the_tail_once_and_in_order(js: JetStreamContext) -> None:
    publish = publisher(js).handle
    await publish(_event(1, 1))  # already in the stream when the follower starts
    outbox = FakeOutbox()
    tail = JetStreamEventLog(outbox)  # type: ignore[arg-type]
    async with asyncio.TaskGroup() as group:
        follower = group.create_task(tail.follow(js))
        async with asyncio.timeout(10):
            while await tail.head() != Position(1, 1):  # the tail starts at the stream's last
                await tail.tail.bell.wait(tail.tail.bell.rings, 0.05)
        for id_ in (2, 3, 3, 4):  # 3 twice: a new relay re-publishing from its checkpoint
            await publish(_event(1, id_))
        events = await tail.read_after(Position(1, 1), 10, wait_s=5)
        while len(events) < 3:
            events += await tail.read_after(events[-1].position, 10, wait_s=5)
        assert [e.id for e in events] == [2, 3, 4]
        assert outbox.asked == []
        follower.cancel()
