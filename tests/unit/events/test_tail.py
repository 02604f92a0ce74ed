"""The outbox read once into a tail: readers inside it, behind it, and across a restart."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import TextClause, text

from evhub.clock import SystemClock
from evhub.events import START, Event, Position
from evhub.events.log import SqlEventLog
from evhub.events.relay import Consumer, Relay, RelayTuning
from evhub.events.tail import OutboxTail
from tests.unit.events.conftest import Log


class CountingOutbox(SqlEventLog):
    """The outbox, counting the reads that reach the table."""

    reads = 0

    async def read_committed(self, after: Position, limit: int) -> tuple[list[Event], bool]:
        self.reads += 1
        return await super().read_committed(after, limit)


@asynccontextmanager
async def followed(events: Log, capacity: int = 1000) -> AsyncIterator[OutboxTail]:
    sql = CountingOutbox(events.uow.sessions, events.uow.bell, events.log._postgres)
    tail = OutboxTail(sql, poll_s=0.05, capacity=capacity)
    follower = asyncio.create_task(tail.follow())
    try:
        async with asyncio.timeout(10):
            await tail.following.wait()
        yield tail
    finally:
        follower.cancel()
        with pytest.raises(asyncio.CancelledError):
            await follower


async def read_all(log: OutboxTail, after: Position, until: int) -> list[int]:
    """The numbers of the events after `after`, up to the one numbered `until`."""
    seen: list[int] = []
    async with asyncio.timeout(10):
        while not seen or seen[-1] != until:
            for event in await log.read_after(after, 100, wait_s=5):
                seen.append(int(event.data["n"]))
                after = event.position
    return seen


async def test_readers_inside_the_tail_are_answered_without_reading_the_table(
    events: Log,
) -> None:
    async with followed(events) as log:
        head = await log.head()
        await events.emit(1, 2, 3)
        assert await read_all(log, head, until=3) == [1, 2, 3]
        reads = log.sql.reads  # type: ignore[attr-defined]
        for _ in range(5):  # five more readers of the same events: memory only
            assert await read_all(log, head, until=3) == [1, 2, 3]
        assert log.sql.reads == reads  # type: ignore[attr-defined]


async def test_a_reader_behind_the_tail_catches_up_from_the_table_then_the_tail(
    events: Log,
) -> None:
    await events.emit(*range(5))  # before the tail starts: only the table has them
    async with followed(events, capacity=2) as log:
        await events.emit(*range(5, 15))  # more than the tail keeps
        assert await read_all(log, START, until=14) == list(range(15))
        assert not log.tail.covers(START)


async def test_consumers_on_the_tail_get_every_event_once_in_order(events: Log) -> None:
    async with followed(events) as log:
        relay = Relay(log, events.uow, SystemClock(), RelayTuning(poll_s=0.2))
        seen: dict[str, list[int]] = {"a": [], "b": []}
        done = {name: asyncio.Event() for name in seen}

        def recorder(name: str) -> Consumer:
            async def handle(event: Event) -> None:
                seen[name].append(int(event.data["n"]))
                if event.data["n"] == 49:
                    done[name].set()

            return Consumer(f"test.{name}", handle)

        for name in seen:
            relay.add(recorder(name))
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(relay.run(c)) for c in relay.consumers.values()]
            for n in range(0, 50, 5):
                await events.emit(*range(n, n + 5))
            async with asyncio.timeout(10):
                await asyncio.gather(*(d.wait() for d in done.values()))
            for task in tasks:
                task.cancel()
        assert seen == {"a": list(range(50)), "b": list(range(50))}


def _insert(n: int) -> TextClause:
    return text(
        "INSERT INTO outbox (kind, occurred_at, payload) VALUES ('t.n', now(), :payload)"
    ).bindparams(payload=f'{{"n": {n}}}')


async def test_a_row_committing_behind_a_running_transaction_is_not_skipped(
    events: Log,
) -> None:
    """PostgreSQL: the follower holds back what commits behind an older transaction, as a
    direct reader does, so that the tail never steps over it."""
    if not events.url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers: ids are commit-ordered")
    async with followed(events) as log:
        head = await log.head()
        async with events.uow.sessions() as early, events.uow.sessions() as late:
            await early.begin()
            await early.execute(_insert(1))
            await late.begin()
            await late.execute(_insert(2))
            await late.commit()
            assert await log.read_after(head, 10) == []  # held back behind `early`
            await early.commit()
        assert await read_all(log, head, until=2) == [1, 2]


async def test_after_the_follower_stops_readers_read_the_table(events: Log) -> None:
    async with followed(events) as log:
        head = await log.head()
        await events.emit(1)
        assert await read_all(log, head, until=1) == [1]
    assert not log.following.is_set() and not log.tail.covers(head)
    await events.emit(2)
    assert await read_all(log, head, until=2) == [1, 2]


async def test_commits_in_quick_succession_share_the_followers_reads(events: Log) -> None:
    """After a read that found events the follower waits a little, so that a stream of
    commits costs fewer reads of the table than commits; nothing is lost meanwhile."""
    async with followed(events) as log:
        log.linger_s = 0.2
        head = await log.head()
        await events.emit(0)
        async with asyncio.timeout(10):
            while log.tail.last == head:  # the follower read it and now waits
                await log.tail.bell.wait(log.tail.bell.rings, 1.0)
        reads = log.sql.reads  # type: ignore[attr-defined]
        for n in range(1, 11):  # ten commits while it waits
            await events.emit(n)
        assert await read_all(log, head, until=10) == list(range(11))
        assert log.sql.reads - reads <= 3  # type: ignore[attr-defined]
