"""The station writer: boots and status reports of many stations share a commit; a failing
one fails alone, without its events; results come back only once committed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.acknowledge import ACKS_PER_TURN
from evhub.assets import service as assets
from evhub.assets.models import Station, StatusRecord
from evhub.assets.service import BootDecision
from evhub.assets.writer import Operation, StationWriter, WriterStopped
from evhub.db import create_engine, is_sqlite, session_factory
from evhub.errors import NotFound
from evhub.events import Position
from evhub.events.log import SqlEventLog
from evhub.uow import UnitOfWork
from tests.committed_events import committed

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
STATIONS = [f"CP-{n}" for n in range(5)]


@dataclass
class Hub:
    uow: UnitOfWork
    log: SqlEventLog
    read: Position


@pytest.fixture
async def hub(database_url: str) -> AsyncIterator[Hub]:
    engine = create_engine(database_url)
    uow = UnitOfWork(session_factory(engine))
    log = SqlEventLog(uow.sessions, uow.bell, postgres=not is_sqlite(database_url))
    async with uow() as s:
        site = await assets.create_site(s, NOW, "Quai 9", "Europe/Paris", 200.0)
        for station_id in STATIONS:
            await assets.create_station(s, NOW, station_id, site.id, "station-password-0001")
    yield Hub(uow, log, await log.head())
    await engine.dispose()


def _boot(station_id: str) -> Operation[BootDecision]:
    def write(s: AsyncSession) -> Awaitable[BootDecision]:
        return assets.record_boot(s, station_id, NOW, 300, vendor="V", model="M")

    return write


def _status(station_id: str, status: str) -> Operation[bool]:
    def write(s: AsyncSession) -> Awaitable[bool]:
        return assets.record_status(s, station_id, 1, 1, status, NOW, NOW)

    return write


async def _let_tasks_run() -> None:
    """Yield the loop a few turns: started tasks run up to their first wait."""
    for _ in range(3):
        await asyncio.sleep(0)


async def _run_until_done(writer: StationWriter, *submits: asyncio.Task[Any]) -> list[Any]:
    runner = asyncio.create_task(writer.run())
    try:
        async with asyncio.timeout(10):
            return await asyncio.gather(*submits, return_exceptions=True)
    finally:
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner


async def test_boots_of_many_stations_share_one_commit_with_their_events(hub: Hub) -> None:
    writer = StationWriter(hub.uow)
    boots = [asyncio.create_task(writer.submit(_boot(sid))) for sid in STATIONS]
    statuses = [asyncio.create_task(writer.submit(_status(sid, "Available"))) for sid in STATIONS]
    await _let_tasks_run()
    results = await _run_until_done(writer, *boots, *statuses)
    assert [r.status for r in results[:5]] == ["Accepted"] * 5
    assert (writer.commits, writer.operations, writer.batches_written_again) == (1, 10, 0)
    async with hub.uow() as s:
        booted = await s.scalar(select(func.count()).where(Station.last_boot_at.is_not(None)))
        assert booted == 5
    kinds = [e.kind for e in await committed(hub.log, hub.read)]
    assert kinds.count("station.booted") == 5 and kinds.count("status.changed") == 5


async def test_a_failing_operation_fails_alone_and_leaves_no_event(hub: Hub) -> None:
    writer = StationWriter(hub.uow)
    good = [asyncio.create_task(writer.submit(_status(sid, "Charging"))) for sid in STATIONS]
    # A status of a station that does not exist: the connector it creates breaks the foreign
    # key of its EVSE (or the boot of an unknown station raises NotFound): it must fail alone.
    bad_status = asyncio.create_task(writer.submit(_status("CP-GONE", "Faulted")))
    bad_boot = asyncio.create_task(writer.submit(_boot("CP-GONE")))
    await _let_tasks_run()
    results = await _run_until_done(writer, *good, bad_status, bad_boot)
    assert results[:5] == [True] * 5
    assert isinstance(results[5], Exception) and isinstance(results[6], NotFound)
    assert writer.batches_written_again == 1 and writer.isolated_failures == 2
    async with hub.uow() as s:
        stored = (await s.execute(select(StatusRecord.station_id))).scalars().all()
    assert sorted(stored) == STATIONS
    events = await committed(hub.log, hub.read)
    assert sorted(e.data["station_id"] for e in events) == STATIONS  # none of CP-GONE's


async def test_a_deferred_row_that_fails_fails_its_operation_alone(hub: Hub) -> None:
    """A station-level report's history row is written at the end of the batch; the one of a
    station that does not exist breaks its foreign key there, and only its report fails."""
    writer = StationWriter(hub.uow)

    def station_level(station_id: str) -> Operation[bool]:
        return lambda s: assets.record_status(s, station_id, 0, 0, "Unavailable", NOW, NOW)

    good = [asyncio.create_task(writer.submit(station_level(sid))) for sid in STATIONS]
    bad = asyncio.create_task(writer.submit(station_level("CP-GONE")))
    await _let_tasks_run()
    results = await _run_until_done(writer, *good, bad)
    assert results[:5] == [False] * 5 and isinstance(results[5], Exception)
    assert writer.batches_written_again == 1 and writer.isolated_failures == 1
    async with hub.uow() as s:
        stored = (await s.execute(select(StatusRecord.station_id))).scalars().all()
    assert sorted(stored) == STATIONS
    events = await committed(hub.log, hub.read)
    assert sorted(e.data["station_id"] for e in events) == STATIONS


async def test_an_operation_is_not_acknowledged_when_the_writer_stops_first(hub: Hub) -> None:
    writer = StationWriter(hub.uow)
    runner = asyncio.create_task(writer.run())
    await _let_tasks_run()
    runner.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await runner
    # Stopped: an operation still submitted gets its own transaction and commits.
    decision = await writer.submit(_boot("CP-0"))
    assert decision.status == "Accepted"
    queued = StationWriter(hub.uow, max_queued=2)
    waiting = asyncio.create_task(queued.submit(_boot("CP-1")))
    await _let_tasks_run()
    queued._fail(queued._drain())
    with pytest.raises(WriterStopped):
        await waiting


async def test_a_big_commit_wakes_its_stations_a_slice_per_loop_turn(hub: Hub) -> None:
    """Another task (an API request) gets the loop between slices of one commit's answers."""
    order: list[str] = []

    async def noop(_: AsyncSession) -> None:
        return None

    async def station(n: int) -> None:
        await writer.submit(noop)
        order.append("station")

    writer = StationWriter(hub.uow, max_per_commit=4 * ACKS_PER_TURN)
    stations = [asyncio.create_task(station(n)) for n in range(4 * ACKS_PER_TURN)]
    await _let_tasks_run()  # all queued before the writer takes its batch

    async def api() -> None:
        while len(order) - order.count("api") < len(stations):
            order.append("api")
            await asyncio.sleep(0)

    prober = asyncio.create_task(api())
    await _run_until_done(writer, *stations)
    await prober
    assert writer.commits == 1
    runs = [len(run) for run in "".join("s" if o == "station" else " " for o in order).split()]
    assert sum(runs) == len(stations)
    assert max(runs) <= ACKS_PER_TURN, runs


async def test_operations_arriving_while_a_commit_gathers_share_it(hub: Hub) -> None:
    writer = StationWriter(hub.uow, linger_s=0.2)
    runner = asyncio.create_task(writer.run())
    try:
        first = asyncio.create_task(writer.submit(_boot("CP-0")))
        await _let_tasks_run()
        assert writer.queued == 0 and not first.done()  # taken; a commit would be under way
        later = [asyncio.create_task(writer.submit(_boot(sid))) for sid in STATIONS[1:]]
        async with asyncio.timeout(10):
            await asyncio.gather(first, *later)
    finally:
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner
    assert (writer.commits, writer.operations) == (1, 5)


async def test_an_operation_taken_while_gathering_fails_when_the_writer_stops(hub: Hub) -> None:
    writer = StationWriter(hub.uow, linger_s=60.0)
    runner = asyncio.create_task(writer.run())
    taken = asyncio.create_task(writer.submit(_boot("CP-0")))
    await _let_tasks_run()
    assert writer.queued == 0  # taken, waiting for company
    runner.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await runner
    with pytest.raises(WriterStopped):
        await taken
    async with hub.uow() as s:
        assert await s.scalar(select(func.count()).where(Station.last_boot_at.is_not(None))) == 0
