"""Consumers on checkpoints: order, catch-up after a restart, retries that block no one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.events import START, Event, Position, checkpoints
from evhub.events.relay import Consumer, Relay, TransactionalConsumer
from tests.committed_events import committed
from tests.unit.events.conftest import Log


class Recorder:
    """A consumer that records the numbers it saw and signals when it has seen `until`."""

    def __init__(self, until: int, fail_first: int = 0) -> None:
        self.seen: list[int] = []
        self.until = until
        self.fail_first = fail_first
        self.done = asyncio.Event()

    async def handle(self, event: Event) -> None:
        if self.fail_first:
            self.fail_first -= 1
            raise RuntimeError("the handler is down")
        self.seen.append(int(event.data["n"]))
        if event.data["n"] == self.until:
            self.done.set()


@asynccontextmanager
async def running(relay: Relay) -> AsyncIterator[None]:
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(relay.run(c)) for c in relay.consumers.values()]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()


async def checkpointed(relay: Relay, name: str, position: Position) -> None:
    """Return once the relay has moved `name`'s checkpoint to `position`."""
    async with asyncio.timeout(10):
        while (seen := relay.advanced.rings) is not None and relay.positions.get(name) != position:
            await relay.advanced.wait(seen, 10)


async def test_a_consumer_gets_every_event_in_order(events: Log) -> None:
    await events.emit(0, 1, 2)  # before the consumer ever ran: it starts at the beginning
    recorder = Recorder(until=9)
    relay = events.relay()
    relay.add(Consumer("test.recorder", recorder.handle))
    async with running(relay):
        for n in range(3, 10):
            await events.emit(n)
        async with asyncio.timeout(10):
            await recorder.done.wait()
    assert recorder.seen == list(range(10))


async def test_a_restarted_consumer_catches_up_from_its_checkpoint(events: Log) -> None:
    first = Recorder(until=2)
    relay = events.relay()
    relay.add(Consumer("test.recorder", first.handle))
    await events.emit(0, 1, 2)
    async with running(relay):
        async with asyncio.timeout(10):
            await first.done.wait()
    await events.emit(3, 4)  # while it is down
    again = Recorder(until=4)
    relay = events.relay()
    relay.add(Consumer("test.recorder", again.handle))
    async with running(relay):
        async with asyncio.timeout(10):
            await again.done.wait()
    # Nothing lost; what was handled but not yet checkpointed when it stopped comes again.
    assert first.seen == [0, 1, 2]
    start = again.seen[0]
    assert again.seen == list(range(start, 5)) and start <= 3


async def test_a_failing_handler_is_retried_and_holds_back_no_other_consumer(
    events: Log,
) -> None:
    failing = Recorder(until=2, fail_first=3)
    healthy = Recorder(until=2)
    relay = events.relay()
    relay.add(Consumer("test.failing", failing.handle))
    relay.add(Consumer("test.healthy", healthy.handle))
    async with running(relay):
        await events.emit(0, 1, 2)
        async with asyncio.timeout(10):
            await healthy.done.wait()
            await failing.done.wait()
    assert healthy.seen == failing.seen == [0, 1, 2]  # nothing skipped, nothing doubled


async def test_kinds_are_filtered_and_the_checkpoint_still_moves_past_the_others(
    events: Log,
) -> None:
    recorder = Recorder(until=2)
    relay = events.relay()
    relay.add(Consumer("test.recorder", recorder.handle, frozenset({"test.wanted"})))
    await events.emit(0, 1, kind="test.other")
    await events.emit(2, kind="test.wanted")
    last = (await committed(events.log, START, 10))[-1].position
    async with running(relay):
        await checkpointed(relay, "test.recorder", last)
    assert recorder.seen == [2]
    async with events.uow() as session:
        assert await checkpoints.load(session, "test.recorder") == last


async def _effects(events: Log) -> list[int]:
    async with events.uow() as session:
        rows = await session.execute(text("SELECT n FROM test_effects ORDER BY event_id"))
        return [n for (n,) in rows]


async def test_a_transactional_consumer_has_its_effects_exactly_once(events: Log) -> None:
    """Its effects and its checkpoint commit together: a failure rolls both back, so the
    retried event has one effect; a second runner of the same consumer adds none."""
    async with events.uow() as session:
        await session.execute(
            text("CREATE TABLE test_effects (event_id BIGINT PRIMARY KEY, n INT)")
        )
    failures = {1: 2}  # event n=1 fails twice after writing its effect
    done = asyncio.Event()

    async def handle(session: AsyncSession, event: Event) -> None:
        n = int(event.data["n"])
        await session.execute(
            text("INSERT INTO test_effects (event_id, n) VALUES (:id, :n)"),
            {"id": event.id, "n": n},
        )
        if failures.get(n):
            failures[n] -= 1
            raise RuntimeError("failed after its effect")
        if n == 3:
            done.set()

    relays = [events.relay(), events.relay()]
    for relay in relays:
        relay.add(TransactionalConsumer("test.effects", handle))
    await events.emit(0, 1)
    await events.emit(2, 3)
    async with running(relays[0]), running(relays[1]):
        async with asyncio.timeout(10):
            await done.wait()
    assert await _effects(events) == [0, 1, 2, 3]


class Starts:
    """A loop starter that records the names of the loops it was given."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def start(self, name: str, loop: object) -> None:
        self.names.append(name)


async def test_side_effect_consumers_run_once_per_cluster(events: Log) -> None:
    async def effect(_: Event) -> None: ...

    async def write(_: AsyncSession, __: Event) -> None: ...

    relay = events.relay()
    relay.add(Consumer("test.mail", effect))
    relay.add(Consumer("test.wake", effect, per_node=True))
    relay.add(TransactionalConsumer("test.cdrs", write))
    everywhere, once = Starts(), Starts()
    relay.start(everywhere, once)
    assert once.names == ["events.test.mail"]
    assert everywhere.names == ["events.test.wake", "events.test.cdrs"]
    alone = Starts()
    relay.start(alone)  # one node: every consumer runs there
    assert alone.names == ["events.test.mail", "events.test.wake", "events.test.cdrs"]
