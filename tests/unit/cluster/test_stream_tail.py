"""The stream's tail answers readers inside it and sends the others to the outbox."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from evhub.cluster.stream import JetStreamEventLog
from evhub.events.log import Doorbell, Event, Position

AT = datetime(2026, 12, 1, tzinfo=UTC)


class FakeOutbox:
    """Stands for SqlEventLog: records what it was asked."""

    def __init__(self) -> None:
        self.bell = Doorbell()
        self.asked: list[Position] = []

    async def read_after(self, after: Position, limit: int, wait_s: float = 0.0) -> list[Event]:
        self.asked.append(after)
        return [Event("from.outbox", AT, {}, after.id + 1, after.txid)]

    async def head(self) -> Position:
        return Position(0, 0)

    async def position_of(self, event_id: int) -> Position | None:
        return None


def _event(txid: int, id_: int) -> Event:
    return Event("station.connected", AT, {"station_id": "CP-1"}, id_, txid)


def _tail() -> tuple[JetStreamEventLog, FakeOutbox]:
    outbox = FakeOutbox()
    return JetStreamEventLog(outbox, capacity=3), outbox  # type: ignore[arg-type]


async def test_a_reader_inside_the_tail_reads_it_and_one_behind_reads_the_outbox() -> None:
    tail, outbox = _tail()
    for txid, id_ in [(10, 5), (11, 6), (11, 7)]:  # the first one only marks the start
        tail._receive(_event(txid, id_))
    assert [e.id for e in await tail.read_after(Position(10, 5), 10)] == [6, 7]
    assert [e.id for e in await tail.read_after(Position(11, 6), 10)] == [7]
    assert await tail.head() == Position(11, 7)
    assert outbox.asked == []
    assert [e.kind for e in await tail.read_after(Position(9, 4), 10)] == ["from.outbox"]
    assert outbox.asked == [Position(9, 4)]


async def test_a_republished_event_is_dropped_and_the_tail_stays_bounded() -> None:
    tail, _ = _tail()
    tail._receive(_event(1, 1))
    for id_ in range(2, 10):
        tail._receive(_event(1, id_))
    tail._receive(_event(1, 4))  # a new publisher re-sending past the duplicate window
    events = await tail.read_after(Position(1, 6), 10)
    assert [e.id for e in events] == [7, 8, 9]
    assert len(tail.tail._events) <= 2 * tail.tail.capacity


async def test_before_the_stream_is_followed_everything_reads_the_outbox() -> None:
    tail, outbox = _tail()
    await tail.read_after(Position(0, 0), 10)
    assert outbox.asked == [Position(0, 0)]


async def test_a_reader_waiting_while_the_tail_moves_past_it_reads_the_outbox() -> None:
    """The events after a waiting reader's position are dropped from the tail meanwhile: it
    must not be given what the tail still holds (after a gap), but go to the outbox."""
    tail, outbox = _tail()
    tail._receive(_event(1, 1))
    reader = asyncio.create_task(tail.read_after(Position(1, 1), 10, wait_s=10))
    await asyncio.sleep(0)  # the reader finds the tail empty and waits on its bell
    for id_ in range(2, 10):
        tail._receive(_event(1, id_))
    async with asyncio.timeout(5):
        assert await reader == []  # not covered any more: nothing from past the gap
    assert [e.kind for e in await tail.read_after(Position(1, 1), 10)] == ["from.outbox"]
