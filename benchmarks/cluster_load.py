"""Two nodes on one PostgreSQL and one NATS server: what a station costs the broker and the
database, and what a command costs when it crosses nodes.

K stations (OCPP 1.6J, simulated) connect, half to each node; then M commands (TriggerMessage
Heartbeat) go through node 1's API, half to its own stations and half to node 2's (NATS
request/reply); then the cluster idles with every station connected for W seconds while the
database's commits and NATS's messages are counted; last, the JetStream relay's rate is
measured by publishing E events of the outbox's size with acknowledgement, one after another.

    .venv/bin/python benchmarks/cluster_load.py --stations 400 \\
        --database-url postgresql+asyncpg://postgres@127.0.0.1:54329/postgres

It prints JSON. The database named in the URL is used to create a fresh database per run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import nats
from sqlalchemy.engine import make_url

from evhub.cluster import local
from evhub.db import migrate_async
from evhub.sim import SimEvse, SimStation

PASSWORD = "bench-password-123456"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def fresh_database(url: str) -> tuple[str, str]:
    base = make_url(url)
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"evhub_bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin)
    await conn.execute(f"CREATE DATABASE {name}")
    await conn.close()
    return base.set(database=name).render_as_string(hide_password=False), admin


async def commits(admin: str, database: str) -> int:
    conn = await asyncpg.connect(admin)
    try:
        return int(await conn.fetchval(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = $1", database
        ))  # fmt: skip
    finally:
        await conn.close()


def nats_messages(monitor_port: int) -> int:
    varz = httpx.get(f"http://127.0.0.1:{monitor_port}/varz").json()
    return int(varz["in_msgs"]) + int(varz["out_msgs"])


async def start_cluster(url: str, workdir: Path) -> tuple[list[Any], list[int], str, int, str]:
    nats_port, monitor = local.free_port(), local.free_port()
    nats_process = local.start_nats(workdir / "nats", nats_port, monitor)
    await migrate_async(url)
    key = "evh_" + secrets.token_urlsafe(32)
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVHUB_")} | {
        "EVHUB_DATABASE_URL": url, "EVHUB_NATS_URL": f"nats://127.0.0.1:{nats_port}",
        "EVHUB_BOOTSTRAP_ADMIN_KEY": key, "EVHUB_SECRET_KEY": secrets.token_urlsafe(48),
        "EVHUB_VAR_DIR": str(workdir / "var"), "EVHUB_LOG_LEVEL": "warning",
        "EVHUB_MIGRATE_ON_START": "false",
    }  # fmt: skip
    processes: list[Any] = [nats_process]
    ports = []
    try:
        for n in (1, 2):
            port = local.free_port()
            node_env = env | {"EVHUB_NODE_ID": f"bench-{n}"}
            processes.append(local.start_node(node_env, port, workdir / f"node-{n}.log"))
            local.wait_port(port, processes[-1], f"node {n}")
            ports.append(port)
    except BaseException:
        for process in reversed(processes):
            process.kill()
        raise
    return processes, ports, key, monitor, f"nats://127.0.0.1:{nats_port}"


async def healthy(http: httpx.AsyncClient) -> None:
    async with asyncio.timeout(60):
        while True:
            try:
                if (await http.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)  # a node still starting: nothing to await


async def command_latency(http: httpx.AsyncClient, ids: list[str]) -> list[float]:
    took = []
    for sid in ids:
        start = time.perf_counter()
        r = await http.post(f"/api/v1/stations/{sid}/trigger", json={"message": "Heartbeat"})
        assert r.status_code == 200 and r.json()["status"] == "Accepted", r.text
        took.append((time.perf_counter() - start) * 1000)
    return took


async def publish_rate(nats_url: str, events: int) -> float:
    client = await nats.connect(nats_url)
    js = client.jetstream()
    await js.add_stream(name="BENCH", subjects=["bench.>"], duplicate_window=120)
    payload = json.dumps({"kind": "meter.recorded", "at": "2026-12-01T00:00:00+00:00",
                          "data": {"station_id": "CP-00001", "transaction_id": 1,
                                   "energy_wh": 123456, "power_w": 11000.0},
                          "id": 1, "txid": 1}).encode()  # fmt: skip
    start = time.perf_counter()
    for n in range(events):
        await js.publish("bench.meter", payload, headers={"Nats-Msg-Id": str(n)})
    rate = events / (time.perf_counter() - start)
    await client.close()
    return rate


async def main(args: argparse.Namespace) -> dict[str, Any]:
    url, admin = await fresh_database(args.database_url)
    database = make_url(url).database or ""
    workdir = Path(tempfile.mkdtemp(prefix="evhub-bench-cluster-"))
    processes, ports, key, monitor, nats_url = await start_cluster(url, workdir)
    headers = {"Authorization": f"Bearer {key}"}
    one, two = (httpx.AsyncClient(base_url=f"http://127.0.0.1:{p}", headers=headers, timeout=60)
                for p in ports)  # fmt: skip
    stations: list[SimStation] = []
    try:
        await healthy(one)
        await healthy(two)
        body = {"name": "Bench", "timezone": "UTC", "grid_limit_kw": 10000}
        site = (await one.post("/api/v1/sites", json=body)).json()["id"]
        ids = [f"CP-{n:05d}" for n in range(args.stations)]
        for sid in ids:
            body: dict[str, Any] = {
                "id": sid,
                "site_id": site,
                "password": PASSWORD,
                "evses": [{"evse_id": 1}],
            }
            assert (await one.post("/api/v1/stations", json=body)).status_code == 201
        start = time.perf_counter()
        for n, sid in enumerate(ids):
            port = ports[n % 2]
            stations.append(SimStation(sid, PASSWORD, "1.6", f"ws://127.0.0.1:{port}/ocpp",
                                       [SimEvse(1)], meter_interval_s=3600.0))  # fmt: skip
        for n in range(0, len(stations), 25):  # in steps: the load generator shares the cores
            await asyncio.gather(*(st.start() for st in stations[n : n + 25]))
        connect_s = time.perf_counter() - start
        local_ids, remote_ids = ids[0 : args.commands * 2 : 2], ids[1 : args.commands * 2 : 2]
        local_ms = await command_latency(one, local_ids)
        remote_ms = await command_latency(one, remote_ids)
        c0, m0 = await commits(admin, database), nats_messages(monitor)
        await asyncio.sleep(args.idle_s)  # the measured window: the cluster left alone
        c1, m1 = await commits(admin, database), nats_messages(monitor)
        rate = await publish_rate(nats_url, args.events)
        return {
            "stations": args.stations, "connect_all_s": round(connect_s, 1),
            "command_local_ms": {"p50": round(statistics.median(local_ms), 1),
                                 "p99": round(percentile(local_ms, 0.99), 1)},
            "command_remote_ms": {"p50": round(statistics.median(remote_ms), 1),
                                  "p99": round(percentile(remote_ms, 0.99), 1)},
            "idle_db_commits_per_s": round((c1 - c0) / args.idle_s, 1),
            "idle_nats_msgs_per_s": round((m1 - m0) / args.idle_s, 1),
            "jetstream_acked_publish_per_s": round(rate),
        }  # fmt: skip
    finally:
        await asyncio.gather(*(st.stop() for st in stations), return_exceptions=True)
        await one.aclose()
        await two.aclose()
        for process in reversed(processes):
            process.terminate()
            process.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--stations", type=int, default=400)
    parser.add_argument("--commands", type=int, default=100)
    parser.add_argument("--idle-s", type=float, default=30.0)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--database-url", required=True)
    result = asyncio.run(main(parser.parse_args()))
    json.dump(result, sys.stdout, indent=2)
    print()
