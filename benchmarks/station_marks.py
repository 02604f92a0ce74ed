"""Micro-benchmark of a station's connected mark as the station writer commits it: batches of
marks (each with its `station.connected` event) in one unit of work, written by
`assets.mark_connected` (a Core UPDATE built once) and, interleaved in the same process, by the
ORM-enabled UPDATE it replaced (the baseline). Prints CPU microseconds per mark and the ratio.

    python benchmarks/station_marks.py [--database-url URL] [--stations 2000] [--batch 200]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.assets import service as assets
from evhub.assets.models import Station
from evhub.db import create_engine, migrate_async, session_factory
from evhub.events import emit
from evhub.uow import UnitOfWork

Mark = Callable[[AsyncSession, str, str, bool, datetime], Awaitable[None]]


async def orm_mark(
    session: AsyncSession, station_id: str, ocpp_version: str, online: bool, now: datetime
) -> None:
    """The mark as it was written before: an ORM-enabled UPDATE built at every call."""
    values: dict[str, object] = {"online": online, "last_seen_at": now}
    if online:
        values["ocpp_version"] = ocpp_version
    await session.execute(update(Station).where(Station.id == station_id).values(**values))
    kind = "station.connected" if online else "station.disconnected"
    emit(session, kind, now, station_id=station_id, ocpp_version=ocpp_version)


async def timed(uow: UnitOfWork, mark: Mark, ids: list[str], batch: int, at: datetime) -> float:
    """CPU seconds of this process to mark every station, `batch` per transaction."""
    cpu = time.process_time()
    for start in range(0, len(ids), batch):
        async with uow() as s:
            for station_id in ids[start : start + batch]:
                await mark(s, station_id, "2.0.1", True, at)
    return time.process_time() - cpu


async def main(url: str, stations: int, batch: int, rounds: int) -> None:
    await migrate_async(url)
    engine = create_engine(url)
    uow = UnitOfWork(session_factory(engine))
    now = datetime.now(UTC)
    async with uow() as s:
        site = await assets.create_site(s, now, "Bench", "Europe/Paris", 1000.0)
        for n in range(stations):
            await assets.create_station(s, now, f"M-{n}", site.id, "station-password-0001", [])
    ids = [f"M-{n}" for n in range(stations)]
    await timed(uow, assets.mark_connected, ids, batch, now)  # warm both statement caches
    await timed(uow, orm_mark, ids, batch, now)
    core = orm = 0.0
    for r in range(rounds):  # interleaved, so that both see the same machine
        at = now + timedelta(seconds=r + 1)
        orm += await timed(uow, orm_mark, ids, batch, at)
        core += await timed(uow, assets.mark_connected, ids, batch, at)
    await engine.dispose()
    marks = stations * rounds
    print(f"{marks:,} marks each way, {batch} per transaction: "
          f"Core {1e6 * core / marks:.0f} us, ORM-enabled {1e6 * orm / marks:.0f} us of CPU per "
          f"mark; Core / ORM = {core / orm:.2f}")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--stations", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    database = args.database_url or f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/marks.sqlite3"
    asyncio.run(main(database, args.stations, args.batch, args.rounds))
