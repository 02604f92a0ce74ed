"""Writing and reading the log: same transaction as the change, JSON only, commit order."""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import text

from evhub.events import START, emit
from tests.committed_events import committed
from tests.unit.events.conftest import AT, Log


async def test_an_event_is_logged_only_if_its_transaction_commits(events: Log) -> None:
    await events.emit(1)
    with pytest.raises(RuntimeError):
        async with events.uow() as session:
            emit(session, "test.numbered", AT, n=2)
            raise RuntimeError("the change failed")
    await events.emit(3)
    read = await committed(events.log, START, 100)
    assert [e.data["n"] for e in read] == [1, 3]
    assert read[0].at == AT and read[0].kind == "test.numbered"


@pytest.mark.parametrize("value", [datetime(2026, 1, 1), Decimal("1.20"), {1, 2}])
async def test_what_json_cannot_carry_is_refused_at_the_call_site(
    events: Log, value: object
) -> None:
    async with events.uow() as session:
        with pytest.raises(TypeError):
            emit(session, "test.bad", AT, value=value)
    assert await committed(events.log, START, 10) == []


async def test_reading_after_a_position_resumes_there_in_order(events: Log) -> None:
    await events.emit(*range(10))
    first = await committed(events.log, START, 4)
    rest = await committed(events.log, first[-1].position, 100)
    assert [e.data["n"] for e in first + rest] == list(range(10))
    assert await committed(events.log, rest[-1].position, 100) == []
    assert await events.log.head() == rest[-1].position
    assert await events.log.position_of(first[1].id) == first[1].position


async def test_a_waiting_reader_wakes_on_the_commit_not_the_poll(events: Log) -> None:
    head = await events.log.head()
    reader = asyncio.create_task(events.log.read_after(head, 10, wait_s=30))
    await asyncio.sleep(0)  # let the reader find the log empty and wait on the doorbell
    await events.emit(7)
    async with asyncio.timeout(5):
        [event] = await reader
    assert event.data == {"n": 7}


async def test_rows_committing_out_of_id_order_are_not_skipped(events: Log) -> None:
    """PostgreSQL: a transaction that takes an id first and commits last is read after the
    other, never stepped over (on SQLite writers are serialised: nothing to test)."""
    if not events.url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers: ids are commit-ordered")
    head = await events.log.head()
    async with events.uow.sessions() as early, events.uow.sessions() as late:
        await early.begin()
        await early.execute(
            text("INSERT INTO outbox (kind, occurred_at, payload) VALUES ('t.early', now(), '{}')")
        )
        await late.begin()
        await late.execute(
            text("INSERT INTO outbox (kind, occurred_at, payload) VALUES ('t.late', now(), '{}')")
        )
        await late.commit()  # the higher id commits first
        visible = await events.log.read_after(head, 10)
        assert visible == []  # held back: an older transaction is still running
        await early.commit()
    read = await committed(events.log, head, 10)
    assert [e.kind for e in read] == ["t.early", "t.late"]
    assert read[0].id < read[1].id


async def test_a_row_with_a_lower_id_that_commits_later_comes_after_what_was_read(
    events: Log,
) -> None:
    """PostgreSQL: `a` began writing first (lower transaction id) but inserts its event after
    `b` did; `a` commits, a reader reads past it, then `b` commits: `b`'s event, whose id is
    lower than one already read, must still be delivered (a reader of `id > last` loses it)."""
    if not events.url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers: ids are commit-ordered")
    head = await events.log.head()
    async with events.uow.sessions() as a, events.uow.sessions() as b:
        await a.begin()
        await a.execute(text("SELECT pg_current_xact_id()"))  # a takes the lower xid
        await b.begin()
        await b.execute(
            text("INSERT INTO outbox (kind, occurred_at, payload) VALUES ('t.b', now(), '{}')")
        )  # b takes the lower outbox id
        await a.execute(
            text("INSERT INTO outbox (kind, occurred_at, payload) VALUES ('t.a', now(), '{}')")
        )
        await a.commit()
        [read_a] = await committed(events.log, head, 10)
        assert read_a.kind == "t.a"
        await b.commit()
    [read_b] = await committed(events.log, read_a.position, 10)
    assert read_b.kind == "t.b" and read_b.id < read_a.id
