"""Three nodes behind haproxy under load, one of them killed with SIGKILL.

`evhub cluster up`'s cluster (NATS with JetStream, three `evhub serve`, haproxy with
`deploy/haproxy.cfg`) on a fresh PostgreSQL database; K simulated stations (the load
benchmark's) connect through haproxy, start a charge each and send meter values. Then the
node that leads the most sites is killed with SIGKILL. Measured: for the stations whose socket
dropped, the seconds from the kill until each answers again through the balancer (it
reconnects, boots and goes on with the same charge); a TriggerMessage through haproxy to each
of them afterwards; the seconds until the surviving nodes lead every site's planner again
(their `/healthz` lists the locks they hold); and, at the end, that every acknowledged meter
sample is stored exactly once and that each station has one transaction.

    .venv/bin/python benchmarks/cluster_failover.py --stations 600 \\
        --database-url postgresql+asyncpg://postgres@127.0.0.1:54330/postgres
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import random
import signal
import time
from typing import Any

import httpx
import websockets
from rich.console import Console
from sqlalchemy import func, select, text

from cluster_load import fresh_database
from evhub.charging.models import MeterValue, Transaction
from evhub.cluster import local
from evhub.cluster.up import LocalCluster
from evhub.db import create_engine
from ocpp_load import PASSWORD, LoadStation, Stats, percentile, provision


class FailoverStation(LoadStation):
    """A load station that reconnects when its socket drops and goes on with its charge."""

    dropped_at: float | None = None
    back_at: float | None = None

    async def keep_sending(
        self, url: str, stop_at: float, rate: float, ready: asyncio.Event
    ) -> None:
        auth = base64.b64encode(f"{self.id}:{PASSWORD}".encode()).decode()
        started, n = False, 0
        while time.monotonic() < stop_at:
            try:
                ws = await websockets.connect(
                    f"{url}/{self.id}", subprotocols=[self.protocol],  # type: ignore[list-item]
                    additional_headers={"Authorization": f"Basic {auth}"},
                    open_timeout=60, ping_interval=None,
                )  # fmt: skip
            except (OSError, websockets.WebSocketException, TimeoutError):
                await asyncio.sleep(random.uniform(0.5, 1.5))  # haproxy has no node for it yet
                continue
            self._reader = asyncio.create_task(self.read(ws))
            try:
                if not started:
                    await self.start(ws)  # boot, status, the charge
                    started = True
                    ready.set()
                else:
                    await self.boot(ws)
                    if self.dropped_at is not None and self.back_at is None:
                        self.back_at = time.monotonic()
                while time.monotonic() < stop_at:
                    t0 = time.monotonic()
                    await self.tick(ws, n)
                    n += 1
                    await asyncio.sleep(max(0.0, 1 / rate - (time.monotonic() - t0)))
                await ws.close()
            except (websockets.ConnectionClosed, OSError):
                if self.dropped_at is None:
                    self.dropped_at = time.monotonic()
            finally:
                self._reader.cancel()
                self._pending = None

    async def read(self, ws: Any) -> None:
        """As the load station's, and a call in flight when the socket drops fails."""
        try:
            await super().read(ws)
        finally:
            if self._pending is not None and not self._pending.done():
                self._pending.set_exception(websockets.ConnectionClosedError(None, None))

    async def boot(self, ws: Any) -> None:
        if self.protocol == "ocpp1.6":
            payload = {"chargePointVendor": "Load", "chargePointModel": "L1"}
        else:
            payload = {"reason": "PowerUp",
                       "chargingStation": {"vendorName": "Load", "model": "L1"}}  # fmt: skip
        await self.call(ws, "BootNotification", payload)


async def leads(http: httpx.AsyncClient, port: int) -> set[str]:
    with contextlib.suppress(httpx.HTTPError, ValueError):
        health = (await http.get(f"http://127.0.0.1:{port}/healthz")).json()
        return set(health.get("leads", []))
    return set()


async def main(args: argparse.Namespace) -> dict[str, Any]:
    url, _ = await fresh_database(args.database_url)
    cluster = LocalCluster(local.free_port(), url, Console(quiet=True))
    await asyncio.to_thread(cluster.start)
    try:
        return await measure(args, cluster, url)
    finally:
        await asyncio.to_thread(cluster.stop)


async def measure(args: argparse.Namespace, cluster: LocalCluster, url: str) -> dict[str, Any]:
    await provision(url, args.stations, args.per_site)
    sites = -(-args.stations // args.per_site)
    stats = Stats()
    stations = [FailoverStation(f"LOAD-{i:05d}", ("ocpp1.6", "ocpp2.0.1")[i % 2], stats)
                for i in range(args.stations)]  # fmt: skip
    ready = [asyncio.Event() for _ in stations]
    headers = {"Authorization": f"Bearer {cluster.admin_key}"}
    async with httpx.AsyncClient(base_url=cluster.url, headers=headers, timeout=30) as http:
        stop_at = time.monotonic() + 3600.0  # the tasks are cancelled once measured
        tasks = [asyncio.create_task(st.keep_sending(f"ws://127.0.0.1:{cluster.port}/ocpp",
                                                     stop_at, args.rate, ev))
                 for st, ev in zip(stations, ready, strict=True)]  # fmt: skip
        for ev in ready:
            await ev.wait()
        locks = {f"planning.site.{n}" for n in range(1, sites + 1)}
        await asyncio.sleep(args.before_s)
        held = {name: await leads(http, port) for name, port in cluster.node_ports.items()}
        victim = max(held, key=lambda name: len(held[name] & locks))
        process = dict(cluster.processes)[victim]
        killed_at = time.monotonic()
        os.kill(process.pid, signal.SIGKILL)
        survivors = [port for name, port in cluster.node_ports.items() if name != victim]
        lead_again_s = None
        while time.monotonic() - killed_at < args.after_s:
            taken: set[str] = set()
            for port in survivors:
                taken |= await leads(http, port)
            if lead_again_s is None and locks <= taken:
                lead_again_s = time.monotonic() - killed_at
            dropped = [s for s in stations if s.dropped_at is not None]
            if lead_again_s is not None and dropped and all(s.back_at for s in dropped):
                break
            await asyncio.sleep(0.2)
        dropped = [s for s in stations if s.dropped_at is not None]
        back_s = [s.back_at - killed_at for s in dropped if s.back_at is not None]
        commands_ok, command_ms = 0, []
        for station in dropped[: args.commands]:
            t0 = time.perf_counter()
            r = await http.post(f"/api/v1/stations/{station.id}/trigger",
                                json={"message": "Heartbeat"})  # fmt: skip
            command_ms.append((time.perf_counter() - t0) * 1000)
            commands_ok += r.status_code == 200 and r.json().get("status") == "Accepted"
        await asyncio.sleep(args.tail_s)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    stored, distinct, transactions = await stored_samples(url)
    return {
        "stations": args.stations,
        "sites": sites,
        "killed": victim,
        "sites_led_by_the_killed_node": len(held[victim] & locks),
        "stations_dropped": len(dropped),
        "stations_back": len(back_s),
        "back_p50_s": round(percentile(back_s, 0.5), 1) if back_s else None,
        "back_max_s": round(max(back_s), 1) if back_s else None,
        "every_site_led_again_s": lead_again_s and round(lead_again_s, 1),
        "commands_after": len(command_ms),
        "commands_accepted": commands_ok,
        "command_p50_ms": round(percentile(command_ms, 0.5)) if command_ms else None,
        "meter_samples_acked": stats.samples_acked,
        "meter_samples_stored": stored,
        "meter_samples_stored_twice": stored - distinct,
        "transactions": transactions,
        "call_errors": stats.errors,
    }


async def stored_samples(url: str) -> tuple[int, int, int]:
    """Meter samples stored, distinct ones (a sample twice would be the same transaction,
    time, measurand and phase), and transactions."""
    engine = create_engine(url)
    async with engine.connect() as conn:
        stored = (await conn.execute(select(func.count()).select_from(MeterValue))).scalar_one()
        distinct = (await conn.execute(text(
            "SELECT count(*) FROM (SELECT DISTINCT transaction_pk, timestamp, measurand, phase "
            "FROM meter_values) AS d"
        ))).scalar_one()  # fmt: skip
        txs = (await conn.execute(select(func.count()).select_from(Transaction))).scalar_one()
    await engine.dispose()
    return int(stored), int(distinct), int(txs)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True, help="a PostgreSQL server's URL")
    parser.add_argument("--stations", type=int, default=600)
    parser.add_argument("--per-site", type=int, default=24)
    parser.add_argument("--rate", type=float, default=0.5, help="messages/s per station")
    parser.add_argument("--before-s", type=float, default=20.0, help="load before the kill")
    parser.add_argument("--after-s", type=float, default=60.0, help="longest wait after it")
    parser.add_argument("--tail-s", type=float, default=5.0, help="load after the commands")
    parser.add_argument("--commands", type=int, default=50)
    print(json.dumps(asyncio.run(main(parser.parse_args())), indent=2))
