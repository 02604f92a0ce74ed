"""Micro-benchmark of the meter writer's group commit: batches of MeterValues messages, each
with its samples and its `transaction.metered` event, committed in one unit of work.

    python benchmarks/meter_batch.py [--database-url URL] [--batches 40] [--messages 500]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta

from evhub.assets import service as assets
from evhub.charging import service as charging
from evhub.charging.samples import Sample
from evhub.charging.writer import MeterBatchItem, write_batch
from evhub.db import create_engine, migrate_async, session_factory
from evhub.uow import UnitOfWork


async def main(url: str, batches: int, messages: int) -> None:
    await migrate_async(url)
    engine = create_engine(url)
    uow = UnitOfWork(session_factory(engine))
    now = datetime.now(UTC)
    async with uow() as s:
        site = await assets.create_site(s, now, "Bench", "Europe/Paris", 1000.0)
        evses = [assets.EvseSpec(1, "AC")]
        for n in range(messages):
            await assets.create_station(s, now, f"B-{n}", site.id, "station-password-0001", evses)
    txs = []
    async with uow() as s:
        for n in range(messages):
            opened = await charging.start_transaction_v16(s, now, f"B-{n}", 1, "TAG", 0, now)
            txs.append(opened.transaction.id)
    elapsed = cpu_s = 0.0
    for b in range(batches):
        at = now + timedelta(seconds=b)
        items = [
            MeterBatchItem(f"B-{n}", 1, tx, [Sample(at, "Energy.Active.Import.Register", b + 1.0)])
            for n, tx in enumerate(txs)
        ]
        started, cpu = time.perf_counter(), time.process_time()
        async with uow() as s:
            await write_batch(s, items)
        elapsed += time.perf_counter() - started
        cpu_s += time.process_time() - cpu
    await engine.dispose()
    ms = 1000 / batches
    print(f"{batches * messages / elapsed:,.0f} messages/s; per batch of {messages}: "
          f"{elapsed * ms:.1f} ms wall, {cpu_s * ms:.1f} ms CPU")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--messages", type=int, default=500)
    args = parser.parse_args()
    url = args.database_url or f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    asyncio.run(main(url, args.batches, args.messages))
