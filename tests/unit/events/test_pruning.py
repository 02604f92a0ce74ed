"""Retention: what every consumer has processed goes once old; nothing goes before its time,
except past the bound, where a lagging consumer is logged."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from evhub.events import START, Position, checkpoints
from evhub.events.pruning import Pruner
from tests.committed_events import committed
from tests.unit.events.conftest import Log

DAY = timedelta(days=1)


async def _checkpoint(events: Log, name: str, at: Position) -> None:
    async with events.uow() as session:
        now = datetime.now(UTC)
        await checkpoints.ensure(session, name, now)
        assert await checkpoints.advance(session, name, START, at, now)


def _pruner(events: Log, days_later: float, consumers: list[str]) -> Pruner:
    later = datetime.now(UTC) + timedelta(days=days_later)
    return Pruner(events.uow, lambda: consumers, DAY, 7 * DAY, batch_size=2, now=lambda: later)


async def test_only_old_rows_behind_every_checkpoint_are_pruned(events: Log) -> None:
    await events.emit(*range(5))
    read = await committed(events.log, START, 10)
    await _checkpoint(events, "test.fast", read[4].position)
    await _checkpoint(events, "test.slow", read[2].position)
    consumers = ["test.fast", "test.slow"]
    assert await _pruner(events, 0.5, consumers).prune() == 0  # not old enough
    assert await _pruner(events, 2, consumers).prune() == 3  # 0..2: batches of 2
    left = await committed(events.log, START, 10)
    assert [e.data["n"] for e in left] == [3, 4]


async def test_a_consumer_without_a_checkpoint_yet_holds_everything(events: Log) -> None:
    await events.emit(1, 2)
    assert await _pruner(events, 2, ["test.new"]).prune() == 0


async def test_past_the_bound_rows_go_and_the_lagging_consumer_is_logged(
    events: Log, caplog: pytest.LogCaptureFixture
) -> None:
    await events.emit(1, 2)
    await _checkpoint(events, "test.stuck", START)
    with caplog.at_level(logging.ERROR, logger="evhub.events"):
        assert await _pruner(events, 8, ["test.stuck"]).prune() == 2
    assert "consumer=test.stuck event=consumer_lagging" in caplog.text
    assert "events_lost=2" in caplog.text
