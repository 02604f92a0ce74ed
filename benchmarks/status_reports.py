"""Micro-benchmark of a status report as the station writer commits it: batches of reports in
one unit of work, each a history row, the connector's new state and its `status.changed` event,
written by `assets.record_status` (Core statements built once) and, interleaved in the same
process, by the ORM code it replaced (the baseline). Every report changes its connector's
status. Prints CPU and wall-clock microseconds per report (the writer's batch waits for every
round trip of its reports) and the ratios.

    python benchmarks/status_reports.py [--database-url URL] [--stations 2000] [--batch 200]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.assets import service as assets
from evhub.assets.models import Connector, Evse, StatusRecord
from evhub.assets.service import EvseSpec
from evhub.db import create_engine, migrate_async, session_factory
from evhub.events import emit
from evhub.uow import UnitOfWork

Report = Callable[[AsyncSession, str, int, int, str, datetime, datetime], Awaitable[bool]]


async def orm_report(
    session: AsyncSession,
    station_id: str,
    evse_id: int,
    connector_id: int,
    status: str,
    timestamp: datetime,
    now: datetime,
) -> bool:
    """The report as it was written before: ORM entities, flushed by the next query."""
    record = StatusRecord(station_id=station_id, evse_id=evse_id, connector_id=connector_id,
                          status=status, error_code=None, info=None, timestamp=timestamp,
                          received_at=now)  # fmt: skip
    session.add(record)
    connector = (
        await session.execute(
            select(Connector).join(Evse).where(
                Evse.station_id == station_id,
                Evse.evse_id == evse_id,
                Connector.connector_id == connector_id,
            )
        )
    ).scalar_one()  # fmt: skip
    if connector.status_at is not None and connector.status_at > timestamp:
        return False
    changed = connector.status != status or connector.error_code is not None
    previous = connector.status
    connector.status, connector.error_code, connector.status_at = status, None, timestamp
    if changed:
        emit(session, "status.changed", timestamp, station_id=station_id, evse_id=evse_id,
             connector_id=connector_id, status=status, error_code=None, info=None,
             previous=previous)  # fmt: skip
    return changed


async def timed(
    uow: UnitOfWork, report: Report, ids: list[str], batch: int, status: str, at: datetime
) -> tuple[float, float]:
    """CPU and wall-clock seconds of this process to report every station's status, `batch`
    per transaction."""
    cpu, wall = time.process_time(), time.perf_counter()
    for start in range(0, len(ids), batch):
        async with uow() as s:
            for station_id in ids[start : start + batch]:
                await report(s, station_id, 1, 1, status, at, at)
    return time.process_time() - cpu, time.perf_counter() - wall


async def main(url: str, stations: int, batch: int, rounds: int) -> None:
    await migrate_async(url)
    engine = create_engine(url)
    uow = UnitOfWork(session_factory(engine))
    now = datetime.now(UTC)
    async with uow() as s:
        site = await assets.create_site(s, now, "Bench", "Europe/Paris", 1000.0)
        for n in range(stations):
            await assets.create_station(
                s, now, f"S-{n}", site.id, "station-password-0001", [EvseSpec(1)]
            )
    ids = [f"S-{n}" for n in range(stations)]
    await timed(uow, assets.record_status, ids, batch, "Available", now)  # warm both caches
    await timed(uow, orm_report, ids, batch, "Charging", now)
    core, orm = [0.0, 0.0], [0.0, 0.0]
    for r in range(rounds):  # interleaved, so that both see the same machine
        at = now + timedelta(seconds=2 * r + 1)
        for total, (report, status) in ((orm, (orm_report, "Available")),
                                        (core, (assets.record_status, "Charging"))):  # fmt: skip
            cpu, wall = await timed(uow, report, ids, batch, status, at)
            total[0] += cpu
            total[1] += wall
    await engine.dispose()
    n = stations * rounds
    print(f"{n:,} reports each way, {batch} per transaction, us per report: "
          f"CPU Core {1e6 * core[0] / n:.0f}, ORM {1e6 * orm[0] / n:.0f} ({core[0] / orm[0]:.2f}); "
          f"wall Core {1e6 * core[1] / n:.0f}, ORM {1e6 * orm[1] / n:.0f} "
          f"({core[1] / orm[1]:.2f})")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--stations", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    database = args.database_url or f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/status.sqlite3"
    asyncio.run(main(database, args.stations, args.batch, args.rounds))
