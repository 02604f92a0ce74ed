"""OCPP load benchmark: K stations connect at once and send heartbeats, status and meter values.

The server runs as its own process (`evhub serve`), so that its CPU and memory are its own; the
stations run in this process over real WebSockets. Every station charges one car during the run,
so meter values are persisted against a transaction, as in production.

    .venv/bin/python benchmarks/ocpp_load.py --stations 5000 --rate 0.2 --duration 60
    .venv/bin/python benchmarks/ocpp_load.py --database-url postgresql+asyncpg://... --stations 5000

It first measures the messages/s of a bare Python echo server on the same machine (the ceiling,
`echo_baseline.py`), then prints connected stations, messages/s handled and their ratio to the
ceiling, p50/p99 round-trip latency, server RSS, and checks that every acknowledged meter value
is in the database. `--rate 0` makes every station send as fast as it is answered.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import itertools
import json
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil
import websockets
from sqlalchemy import func, insert, select

import collector_timing
from echo_baseline import echo_server, saturate
from evhub.accounts.models import Token
from evhub.assets.credentials import hash_password
from evhub.assets.models import Connector, Evse, Site, Station
from evhub.charging.models import MeterValue
from evhub.db import create_engine, migrate_async

PASSWORD = "load-test-password-01"
CAR_MAX_W = 11040  # the load's cars charge at 3 x 16 A


@dataclass
class Stats:
    rtts_ms: list[float] = field(default_factory=list)
    answered_at: list[float] = field(default_factory=list)  # time.monotonic() of each answer
    sent: int = 0
    errors: int = 0
    samples_acked: int = 0
    connected: int = 0
    connect_failures: int = 0


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def provision(url: str, stations: int, per_site: int) -> None:
    """Sites of `per_site` stations, and a token, straight into the database (one shared
    password hash). Real hubs have tens of points: so many sites, each planned on its own."""
    engine = create_engine(url)
    password_hash = hash_password(PASSWORD)
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        site_ids = []
        for n in range(-(-stations // per_site)):
            site = await conn.execute(
                insert(Site).values(
                    name=f"Load {n}",
                    timezone="UTC",
                    grid_limit_kw=per_site * 11.0,
                    address="",
                    town="",
                    country="FR",
                    currency="EUR",
                    created_at=now,
                )
            )
            site_ids.append(site.inserted_primary_key[0])
        ids = [f"LOAD-{i:05d}" for i in range(stations)]
        await conn.execute(
            insert(Station),
            [
                {
                    "id": sid,
                    "site_id": site_ids[i // per_site],
                    "password_hash": password_hash,
                    "commissioned": True,
                    "registration_status": "Unknown",
                    "online": False,
                    "created_at": now,
                }
                for i, sid in enumerate(ids)
            ],
        )
        await conn.execute(
            insert(Evse),
            [
                {
                    "station_id": sid,
                    "evse_id": 1,
                    "current_type": "AC",
                    "phases": 3,
                    "max_power_kw": 22,
                }
                for sid in ids
            ],
        )
        evse_pks = (await conn.execute(select(Evse.id))).scalars().all()
        await conn.execute(
            insert(Connector),
            [
                {"evse_pk": pk, "connector_id": 1, "standard": "IEC62196Type2", "status": "Unknown"}
                for pk in evse_pks
            ],
        )
        await conn.execute(
            insert(Token).values(uid="LOAD-TAG", type="ISO14443", status="Accepted", created_at=now)
        )
    await engine.dispose()


async def count_meter_values(url: str) -> int:
    engine = create_engine(url)
    async with engine.connect() as conn:
        n = (await conn.execute(select(func.count()).select_from(MeterValue))).scalar_one()
    await engine.dispose()
    return int(n)


class LoadStation:
    def __init__(self, station_id: str, protocol: str, stats: Stats) -> None:
        self.id = station_id
        self.protocol = protocol
        self.stats = stats
        self.ids = itertools.count()
        self.energy_wh = 0
        self.tx: Any = None
        self._pending: asyncio.Future[Any] | None = None
        self._reader: asyncio.Task[None] | None = None
        self.draw_w = CAR_MAX_W  # what the car draws: its maximum until a profile says less
        self.told_own_limit = False  # whether a TxProfile came (it then rules the draw)
        self.metered_at = time.monotonic()

    async def call(self, ws: Any, action: str, payload: dict[str, Any]) -> Any:
        mid = str(next(self.ids))
        t0 = time.perf_counter()
        if self._reader is None:  # no reader (the echo ceiling's closed loop): read here
            await ws.send(json.dumps([2, mid, action, payload]))
            reply = json.loads(await ws.recv())
        else:
            self._pending = asyncio.get_running_loop().create_future()
            await ws.send(json.dumps([2, mid, action, payload]))
            reply = await self._pending
        self.stats.rtts_ms.append((time.perf_counter() - t0) * 1000)
        self.stats.answered_at.append(time.monotonic())
        self.stats.sent += 1
        if reply[0] != 3:
            self.stats.errors += 1
        return reply[2]

    async def read(self, ws: Any) -> None:
        """Every frame as it comes: the answer to this station's call, or a call of the
        CSMS's own (the planner's profiles, its question about rate units), answered at once
        as a station would, not when the station next sends."""
        async for raw in ws:
            message = json.loads(raw)
            if message[0] == 2:
                if message[2] == "SetChargingProfile":
                    self.obey(message[3])
                await ws.send(json.dumps([3, message[1], self.answer(message[2])]))
            elif self._pending is not None and not self._pending.done():
                self._pending.set_result(message)

    @staticmethod
    def answer(action: str) -> dict[str, Any]:
        if action == "GetConfiguration":  # OCPP 1.6 §9.4: the schedule units it takes
            key = {"key": "ChargingScheduleAllowedChargingRateUnit", "readonly": True,
                   "value": "Current,Power"}  # fmt: skip
            return {"configurationKey": [key]}
        return {"status": "Accepted"}

    def obey(self, payload: dict[str, Any]) -> None:
        """The car draws what its limit allows, up to its 11 kW (3 x 16 A): a meter value
        above the limit the station was told would be a car that ignores it."""
        profile = payload.get("csChargingProfiles") or payload.get("chargingProfile") or {}
        schedule = profile.get("chargingSchedule") or {}
        if isinstance(schedule, list):  # 2.0.1: a list of schedules
            schedule = schedule[0] if schedule else {}
        periods = schedule.get("chargingSchedulePeriod") or [{}]
        limit = periods[0].get("limit")
        if limit is None:
            return
        unit = schedule.get("chargingRateUnit", "W")
        watts = (
            float(limit) * 230 * int(periods[0].get("numberPhases", 3))
            if unit == "A"
            else float(limit)
        )
        own = profile.get("chargingProfilePurpose") == "TxProfile"
        if own or not self.told_own_limit:  # a TxDefaultProfile yields to the transaction's
            self.draw_w = max(0, min(CAR_MAX_W, round(watts)))
        self.told_own_limit |= own

    def meter(self) -> dict[str, Any]:
        now = time.monotonic()  # the register grows by what the car drew since the last one
        self.energy_wh += max(1, round(self.draw_w * (now - self.metered_at) / 3600))
        self.metered_at = now
        ts = now_iso()
        if self.protocol == "ocpp1.6":
            return {
                "timestamp": ts,
                "sampledValue": [
                    {
                        "value": str(self.energy_wh),
                        "measurand": "Energy.Active.Import.Register",
                        "unit": "Wh",
                    },
                    {"value": str(self.draw_w), "measurand": "Power.Active.Import", "unit": "W"},
                ],
            }
        return {
            "timestamp": ts,
            "sampledValue": [
                {"value": self.energy_wh, "measurand": "Energy.Active.Import.Register"},
                {
                    "value": self.draw_w,
                    "measurand": "Power.Active.Import",
                    "unitOfMeasure": {"unit": "W"},
                },
            ],
        }

    async def start(self, ws: Any) -> None:
        v16 = self.protocol == "ocpp1.6"
        if v16:
            await self.call(
                ws, "BootNotification", {"chargePointVendor": "Load", "chargePointModel": "L1"}
            )
            await self.call(
                ws,
                "StatusNotification",
                {"connectorId": 1, "errorCode": "NoError", "status": "Charging"},
            )
            reply = await self.call(
                ws,
                "StartTransaction",
                {"connectorId": 1, "idTag": "LOAD-TAG", "meterStart": 0, "timestamp": now_iso()},
            )
            self.tx = reply["transactionId"]
        else:
            await self.call(
                ws,
                "BootNotification",
                {"chargingStation": {"model": "L2", "vendorName": "Load"}, "reason": "PowerUp"},
            )
            await self.call(
                ws,
                "StatusNotification",
                {
                    "timestamp": now_iso(),
                    "connectorStatus": "Occupied",
                    "evseId": 1,
                    "connectorId": 1,
                },
            )
            self.tx = f"tx-{self.id}"
            await self.call(
                ws,
                "TransactionEvent",
                {
                    "eventType": "Started",
                    "timestamp": now_iso(),
                    "seqNo": 0,
                    "triggerReason": "Authorized",
                    "transactionInfo": {"transactionId": self.tx},
                    "evse": {"id": 1, "connectorId": 1},
                },
            )

    async def tick(self, ws: Any, n: int) -> None:
        if n % 10 == 9:
            await self.call(ws, "Heartbeat", {})
        elif n % 10 == 4:
            if self.protocol == "ocpp1.6":
                await self.call(
                    ws,
                    "StatusNotification",
                    {
                        "connectorId": 1,
                        "errorCode": "NoError",
                        "status": "Charging",
                        "timestamp": now_iso(),
                    },
                )
            else:
                await self.call(
                    ws,
                    "StatusNotification",
                    {
                        "timestamp": now_iso(),
                        "connectorStatus": "Occupied",
                        "evseId": 1,
                        "connectorId": 1,
                    },
                )
        elif self.protocol == "ocpp1.6":
            await self.call(
                ws,
                "MeterValues",
                {"connectorId": 1, "transactionId": self.tx, "meterValue": [self.meter()]},
            )
            self.stats.samples_acked += 2
        else:
            await self.call(ws, "MeterValues", {"evseId": 1, "meterValue": [self.meter()]})
            self.stats.samples_acked += 2

    async def run(
        self,
        url: str,
        connected: asyncio.Event,
        go: asyncio.Event,
        stop_at: list[float],
        rate: float,
        gate: asyncio.Semaphore,
    ) -> None:
        auth = base64.b64encode(f"{self.id}:{PASSWORD}".encode()).decode()
        try:
            async with gate:
                ws = await websockets.connect(
                    f"{url}/{self.id}",
                    subprotocols=[self.protocol],  # type: ignore[list-item]
                    additional_headers={"Authorization": f"Basic {auth}"},
                    open_timeout=120,
                    ping_interval=None,
                    max_queue=4,
                )
        except Exception:
            self.stats.connect_failures += 1
            connected.set()
            return
        async with ws:
            self._reader = asyncio.create_task(self.read(ws))
            try:
                await self._session(ws, connected, go, stop_at, rate)
            finally:
                self._reader.cancel()

    async def _session(
        self,
        ws: Any,
        connected: asyncio.Event,
        go: asyncio.Event,
        stop_at: list[float],
        rate: float,
    ) -> None:
        await self.start(ws)  # boot, status, start of a charge: before the measured window
        self.stats.connected += 1
        connected.set()
        await go.wait()
        period = 1.0 / rate if rate > 0 else 0.0  # 0: closed loop, as fast as answered
        await asyncio.sleep(random.uniform(0, period))
        n = 0
        while time.monotonic() < stop_at[0]:
            t0 = time.monotonic()
            await self.tick(ws, n)
            n += 1
            await asyncio.sleep(max(0.0, period - (time.monotonic() - t0)))


def p99_per_interval(stats: Stats, t0: float, interval_s: float) -> list[float]:
    buckets: dict[int, list[float]] = {}
    for at, rtt in zip(stats.answered_at, stats.rtts_ms, strict=True):
        buckets.setdefault(int((at - t0) // interval_s), []).append(rtt)
    return [round(percentile(buckets[k], 0.99)) for k in sorted(buckets)]


def cpu_seconds(proc: psutil.Process) -> float:
    """User + system CPU of the server and its worker processes (`--workers N`)."""
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = p.cpu_times()
            total += times.user + times.system
    return total


def postgres_cpu_seconds() -> float:
    """User + system CPU of this machine's PostgreSQL processes (0 when there is none)."""
    total = 0.0
    for p in psutil.process_iter(["name"]):
        if (p.info["name"] or "").startswith("postgres"):
            with contextlib.suppress(psutil.Error):
                times = p.cpu_times()
                total += times.user + times.system
    return total


def start_py_spy(pid: int, output: str) -> subprocess.Popen[bytes]:
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    command = [spy, "record", "--pid", str(pid), "--format", "raw", "--rate", "50",
               "--threads", "--subprocesses", "--nonblocking", "--output", output]  # fmt: skip
    return subprocess.Popen(command)


def spy_output(args: argparse.Namespace, index: int) -> str:
    """The profile's file: `--py-spy` itself, or one file per slice of `--py-spy-every` s."""
    return f"{args.py_spy}.{index:02d}" if args.py_spy_every else str(args.py_spy)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def echo_ceiling(args: argparse.Namespace) -> float:
    """Messages/s of the bare echo server (`echo_baseline.py`) in this run, closed loop."""
    clients = [
        LoadStation(f"ECHO-{i:05d}", ("ocpp1.6", "ocpp2.0.1")[i % 2], Stats())
        for i in range(min(args.stations, args.echo_clients))
    ]
    async with echo_server(args.port + 100) as url:

        def connect(client: LoadStation) -> Any:
            return websockets.connect(
                f"{url}/{client.id}", subprotocols=[client.protocol], ping_interval=None
            )

        return await saturate(clients, connect, args.echo_duration)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    echo = await echo_ceiling(args) if args.baseline else None
    workdir = Path(tempfile.mkdtemp(prefix="evhub-load-"))
    url = args.database_url or f"sqlite+aiosqlite:///{workdir}/load.sqlite3"
    await migrate_async(url)
    await provision(url, args.stations, args.per_site)
    evhub = shutil.which("evhub") or str(Path(sys.executable).parent / "evhub")
    env = (
        os.environ
        | {
            "EVHUB_DATABASE_URL": url,
            "EVHUB_LOG_LEVEL": args.server_log_level,
            "EVHUB_VAR_DIR": str(workdir),
            "EVHUB_HEARTBEAT_INTERVAL_S": "3600",
            "EVHUB_SECRET_KEY": secrets.token_urlsafe(48),  # as in production: keyed station hashes
        }
        | collector_timing.probe_env(workdir, statements=True)
    )
    command = [evhub, "serve", "--port", str(args.port), "--workers", str(args.workers)]
    server = subprocess.Popen(command, env=env)
    proc = psutil.Process(server.pid)
    profilers: list[subprocess.Popen[bytes]] = []
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(300):
                try:
                    if (await http.get(f"http://127.0.0.1:{args.port}/healthz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
        stats = Stats()
        protocols = ["ocpp1.6", "ocpp2.0.1"] if args.protocol == "mixed" else [args.protocol]
        stations = [
            LoadStation(f"LOAD-{i:05d}", protocols[i % len(protocols)], stats)
            for i in range(args.stations)
        ]
        go, gate = asyncio.Event(), asyncio.Semaphore(200)
        events = [asyncio.Event() for _ in stations]
        stop_at = [float("inf")]
        t_connect = time.monotonic()
        async with asyncio.TaskGroup() as group:
            for st, ev in zip(stations, events, strict=True):
                group.create_task(
                    st.run(f"ws://127.0.0.1:{args.port}/ocpp", ev, go, stop_at, args.rate, gate)
                )
            for ev in events:
                await ev.wait()
            connect_s = time.monotonic() - t_connect
            # Connected stations idle (answering only the CSMS's calls) while the server
            # digests what the connections queued: its CPU meanwhile shows how much was left.
            settle_cpu0 = cpu_seconds(proc)
            gc_settle0 = collector_timing.collected(workdir, server.pid)
            await asyncio.sleep(args.settle)
            settle_cpu = cpu_seconds(proc) - settle_cpu0
            gc_window0 = collector_timing.collected(workdir, server.pid)
            sql_window0 = collector_timing.statements(workdir, server.pid)
            stats.rtts_ms.clear()
            stats.answered_at.clear()
            sent0, t0 = stats.sent, time.monotonic()
            server_cpu0, load_cpu0 = cpu_seconds(proc), time.process_time()
            db_cpu0 = postgres_cpu_seconds()
            if args.py_spy:  # the server's stacks over the measured window (collapsed text)
                profilers.append(start_py_spy(server.pid, spy_output(args, 0)))
            stop_at[0] = t0 + args.duration
            go.set()
            rss, cpu_per_s, cpu_before = 0, [], server_cpu0
            while time.monotonic() < stop_at[0]:
                rss = max(rss, proc.memory_info().rss)
                await asyncio.sleep(1)
                cpu_now = cpu_seconds(proc)
                cpu_per_s.append(round(100 * (cpu_now - cpu_before)))
                cpu_before = cpu_now
                if args.py_spy and args.py_spy_every and len(cpu_per_s) % args.py_spy_every == 0:
                    profilers[-1].send_signal(signal.SIGINT)  # this slice ends, the next begins
                    profilers.append(start_py_spy(server.pid, spy_output(args, len(profilers))))
        elapsed = time.monotonic() - t0
        server_cpu = cpu_seconds(proc) - server_cpu0
        gc_window1 = collector_timing.collected(workdir, server.pid)
        sql_window1 = collector_timing.statements(workdir, server.pid)
        load_cpu = time.process_time() - load_cpu0
        db_cpu = postgres_cpu_seconds() - db_cpu0
        handled = stats.sent - sent0
        persisted = await count_meter_values(url)
        return {
            "database": url.split(":")[0],
            "stations": args.stations,
            "connected": stats.connected,
            "connect_failures": stats.connect_failures,
            "connect_s": round(connect_s, 1),
            "duration_s": round(elapsed, 1),
            "messages": handled,
            "messages_per_s": round(handled / elapsed, 1),
            "echo_ceiling_messages_per_s": echo and round(echo, 1),
            "echo_ratio": echo and round(handled / elapsed / echo, 3),
            "settle_s": args.settle,
            "server_cpu_settle_s": round(settle_cpu, 1),
            "server_cpu_s": round(server_cpu, 1),
            "server_cpu_us_per_message": round(1e6 * server_cpu / max(handled, 1)),
            "load_generator_cpu_s": round(load_cpu, 1),
            "load_generator_cpu_us_per_message": round(1e6 * load_cpu / max(handled, 1)),
            "postgres_cpu_s": round(db_cpu, 1) if url.startswith("postgresql") else None,
            "rtt_p50_ms": round(percentile(stats.rtts_ms, 0.50), 1),
            "rtt_p99_ms": round(percentile(stats.rtts_ms, 0.99), 1),
            # Whether the tail is a few stalls or all along: the p99 of each 5 s of answers,
            # and the server's CPU (% of a core) in each second of the window.
            "rtt_p99_ms_per_5s": p99_per_interval(stats, t0, 5.0),
            "server_cpu_pct_per_s": cpu_per_s,
            "call_errors": stats.errors,
            "server_rss_mb": round(rss / 2**20, 1),
            "meter_samples_acked": stats.samples_acked,
            "meter_samples_persisted": persisted,
            # The cyclic collector's seconds in the settle time and in the window (one worker:
            # the process started; with several, their supervisor's only).
            "settle": collector_timing.between(gc_settle0, gc_window0),
            "window": collector_timing.between(gc_window0, gc_window1),
            # What each message handled in the window cost the database, statement by statement.
            "statements_window": collector_timing.statements_between(
                sql_window0, sql_window1, handled
            ),
        }
    finally:
        for profiler in profilers:
            profiler.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
            profiler.wait(60)
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:  # thousands of sockets to close: the figures stand
            server.kill()
            server.wait(30)
        shutil.rmtree(workdir, ignore_errors=True)


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--stations", type=int, default=1000)
    p.add_argument(
        "--rate", type=float, default=0.2,
        help="messages per second per station (0: each as fast as it is answered)",
    )  # fmt: skip
    p.add_argument("--duration", type=float, default=30.0, help="seconds of steady load")
    p.add_argument(
        "--settle", type=float, default=0.0,
        help="seconds between the last connection and the measured window (stations idle)",
    )  # fmt: skip
    p.add_argument("--protocol", choices=["mixed", "ocpp1.6", "ocpp2.0.1"], default="mixed")
    p.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    p.add_argument("--port", type=int, default=8191)
    p.add_argument("--workers", type=int, default=1, help="`evhub serve --workers N`")
    p.add_argument("--server-log-level", default="warning", help="the server's EVHUB_LOG_LEVEL")
    p.add_argument("--py-spy", default=None, help="write the server's py-spy profile here")
    p.add_argument(
        "--py-spy-every", type=int, default=0,
        help="one profile per this many seconds of the window (FILE.00, FILE.01, ...)",
    )  # fmt: skip
    p.add_argument("--per-site", type=int, default=24, help="stations per site (hub)")
    p.add_argument(
        "--baseline", action=argparse.BooleanOptionalAction, default=True,
        help="first measure the bare echo server's messages/s (the ceiling), closed loop",
    )  # fmt: skip
    p.add_argument("--echo-clients", type=int, default=500, help="clients of the echo ceiling")
    p.add_argument("--echo-duration", type=float, default=10.0, help="seconds of echo load")
    return p.parse_args()


if __name__ == "__main__":
    result = asyncio.run(main(parse()))
    print(json.dumps(result, indent=2))
