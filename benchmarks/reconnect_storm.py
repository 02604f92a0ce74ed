"""Reconnect storm benchmark: K stations connect at once, drop, and reconnect at once, while an
operator tool keeps listing stations over the REST API.

The server runs as its own process (`evhub serve`), the stations in this process over real
WebSockets, and the API client in a third process, so that its latency is the server's and not
that of this busy event loop. Each station's run is: connect, BootNotification,
StatusNotification ("booted"); a refused or failed handshake (a 503 beyond the server's
pending cap, a timeout) is retried after a short random back-off, as stations do.

    .venv/bin/python benchmarks/reconnect_storm.py --stations 3000
    .venv/bin/python benchmarks/reconnect_storm.py --stations 3000 --database-url postgresql+asyncpg://...

It prints, as JSON: the same storm against a bare Python echo server (`echo_baseline.py`, the
ceiling of this machine in this run) and each phase's `echo_ratio` to it; the API latency with
no storm (baseline), and for the first connection of
all stations (cold: every password is checked), for their reconnection after all sockets
dropped at once, and for their return after a restart of the server (`--no-restart` skips
it), each phase once the server has digested the one before (`settled_before_s`): the time
until all are booted, handshake retries, and the p50/p99/max latency
of `GET /api/v1/stations` meanwhile.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import json
import multiprocessing as mp
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
import websockets

import collector_timing
from echo_baseline import echo_server
from evhub.db import migrate_async
from ocpp_load import PASSWORD, percentile, provision


@dataclass
class Storm:
    booted: int = 0
    retries: int = 0
    failures: int = 0
    all_booted: asyncio.Event = field(default_factory=asyncio.Event)
    timeline: list[float] = field(default_factory=list)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class StormStation:
    def __init__(self, station_id: str, protocol: str) -> None:
        self.id = station_id
        self.protocol = protocol
        self.ids = itertools.count()
        self.ws: Any = None

    async def call(self, action: str, payload: dict[str, Any]) -> None:
        mid = str(next(self.ids))
        await self.ws.send(json.dumps([2, mid, action, payload]))
        while True:
            reply = json.loads(await self.ws.recv())
            if reply[0] != 2:
                return
            await self.ws.send(json.dumps([3, reply[1], {"status": "Accepted"}]))

    async def boot(self) -> None:
        if self.protocol == "ocpp1.6":
            await self.call(
                "BootNotification", {"chargePointVendor": "Storm", "chargePointModel": "S1"}
            )
            status = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
            await self.call("StatusNotification", status | {"timestamp": now_iso()})
        else:
            boot = {"chargingStation": {"model": "S2", "vendorName": "Storm"}, "reason": "PowerUp"}
            await self.call("BootNotification", boot)
            status = {"connectorStatus": "Available", "evseId": 1, "connectorId": 1}
            await self.call("StatusNotification", status | {"timestamp": now_iso()})

    async def connect_and_boot(self, url: str, storm: Storm, total: int, attempts: int) -> None:
        auth = base64.b64encode(f"{self.id}:{PASSWORD}".encode()).decode()
        for attempt in range(attempts):
            try:
                self.ws = await websockets.connect(
                    f"{url}/{self.id}",
                    subprotocols=[self.protocol],  # type: ignore[list-item]
                    additional_headers={"Authorization": f"Basic {auth}"},
                    open_timeout=30,
                    ping_interval=None,
                    max_queue=4,
                )
                await self.boot()
            except (OSError, TimeoutError, websockets.WebSocketException):
                if self.ws is not None:
                    await self.ws.close()
                    self.ws = None
                storm.retries += 1
                await asyncio.sleep(random.uniform(0.5, 2.0) * min(2**attempt, 8))
                continue
            storm.booted += 1
            storm.timeline.append(time.monotonic())
            if storm.booted == total:
                storm.all_booted.set()
            return
        storm.failures += 1

    async def drop(self) -> None:
        if self.ws is not None:
            self.ws.transport.abort()  # the network goes: no closing handshake
            self.ws = None


def probe_api(base_url: str, key: str, ready: Any, stop: Any, out: Any, interval_s: float) -> None:
    """In its own process: list stations again and again until told to stop; the latencies."""
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=120) as http:
        http.get("/api/v1/stations").raise_for_status()  # connected and warm
        ready.set()
        while not stop.is_set():
            t0 = time.perf_counter()
            r = http.get("/api/v1/stations")
            latencies.append((time.perf_counter() - t0) * 1000)
            if r.status_code != 200:
                latencies[-1] = float("inf")
            time.sleep(interval_s)
    out.send(latencies)


async def measured(
    base_url: str, key: str, interval_s: float, phase: Any
) -> tuple[Any, list[float]]:
    """Run `phase()` while another process probes the API; its result and the latencies."""
    ctx = mp.get_context("spawn")
    ready, stop = ctx.Event(), ctx.Event()
    receiver, sender = ctx.Pipe(duplex=False)
    prober = ctx.Process(target=probe_api, args=(base_url, key, ready, stop, sender, interval_s))
    prober.start()
    if not await asyncio.to_thread(ready.wait, 60):
        raise RuntimeError("the API prober did not start")
    try:
        result = await phase()
    finally:
        stop.set()
    latencies: list[float] = await asyncio.to_thread(receiver.recv)
    await asyncio.to_thread(prober.join, 30)
    return result, latencies


def latency(values: list[float]) -> dict[str, Any]:
    return {
        "requests": len(values),
        "p50_ms": round(percentile(values, 0.50), 1),
        "p99_ms": round(percentile(values, 0.99), 1),
        "max_ms": round(max(values), 1) if values else None,
    }


async def storm_phase(
    stations: list[StormStation], url: str, attempts: int, timeout_s: float
) -> dict[str, Any]:
    storm = Storm()
    t0 = time.monotonic()
    async with asyncio.TaskGroup() as group:
        for st in stations:
            group.create_task(st.connect_and_boot(url, storm, len(stations), attempts))
        try:
            async with asyncio.timeout(timeout_s):
                await storm.all_booted.wait()
        except TimeoutError:
            pass
        booted_s = time.monotonic() - t0
    return {
        "booted": storm.booted,
        "all_booted_s": round(booted_s, 1) if storm.booted == len(stations) else None,
        "handshake_retries": storm.retries,
        "gave_up": storm.failures,
        "booted_by_second": _by_second(storm.timeline, t0),
    }


def _by_second(timeline: list[float], t0: float) -> list[int]:
    """How many stations had booted at the end of each second of the storm."""
    if not timeline:
        return []
    counts = [0] * (int(max(timeline) - t0) + 1)
    for t in timeline:
        counts[int(t - t0)] += 1
    return list(itertools.accumulate(counts))


async def wait_healthy(base_url: str) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(300):
            try:
                if (await http.get(f"{base_url}/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the server did not start")


def cpu_s(pid: int) -> float:
    """The process's CPU seconds so far (user + system, Linux): unlike wall time, what the
    server spent does not grow when other work shares the machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def settled(pid: int, limit_s: float = 300.0) -> float:
    """Wait until the server has digested the last storm (its event consumers, the planner's
    first plans): under a quarter of a core over two seconds. How long that took."""
    t0 = time.monotonic()
    last = cpu_s(pid)
    while time.monotonic() - t0 < limit_s:
        await asyncio.sleep(2.0)
        now = cpu_s(pid)
        if now - last < 0.5:
            break
        last = now
    return round(time.monotonic() - t0, 1)


def with_cpu(
    phase: dict[str, Any],
    spent_s: float,
    gc_before: dict[str, Any] | None = None,
    gc_after: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The phase with the server's CPU over it, and its collector's share of that CPU."""
    booted = phase["booted"] or 1
    collector = collector_timing.between(gc_before, gc_after)
    if collector and spent_s > 0:
        collector["server_gc_share"] = round(collector["server_gc_s"] / spent_s, 3)
    cpu = {"server_cpu_s": round(spent_s, 1),
           "server_cpu_ms_per_boot": round(1000 * spent_s / booted, 2)}  # fmt: skip
    return phase | cpu | collector


class Spy:
    """py-spy attached to the server (collapsed-stack text, 50 samples/s, every thread) from
    the start of the phase asked to the end of the reconnection ("first"), or during one."""

    def __init__(self, output: str | None, phase: str) -> None:
        self.output, self.phase = output, phase
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, phase: str, pid: int) -> None:
        if self.output is None or phase != self.phase or self.process is not None:
            return
        spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        command = [spy, "record", "--pid", str(pid), "--format", "raw", "--rate", "50",
                   "--threads", "--nonblocking", "--output", self.output]  # fmt: skip
        self.process = subprocess.Popen(command)

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
            self.process.wait(60)
            self.process = None


async def restarted(
    server: subprocess.Popen[bytes],
    command: list[str],
    env: dict[str, str],
    base_url: str,
    key: str,
    interval_s: float,
    phase: Any,
    spy: Spy,
    workdir: Path,
) -> tuple[subprocess.Popen[bytes], dict[str, Any], list[float]]:
    """A restart with every station connected: the server is stopped as a deploy stops it
    (SIGTERM: it closes the sockets and marks the stations offline), a new one starts on the
    same database, and the stations come back at once when it listens. The phase is timed
    from the new server's first healthy answer; its start and the old one's stop apart."""
    t0 = time.monotonic()
    server.terminate()
    await asyncio.to_thread(server.wait, 120)
    stopped_s = time.monotonic() - t0
    t0 = time.monotonic()
    server = subprocess.Popen(command, env=env)
    await wait_healthy(base_url)
    started_s = time.monotonic() - t0
    spy.start("restart", server.pid)
    spent, gc_before = cpu_s(server.pid), collector_timing.collected(workdir, server.pid)
    result, api = await measured(base_url, key, interval_s, phase)
    gc_after = collector_timing.collected(workdir, server.pid)
    result = with_cpu(result, cpu_s(server.pid) - spent, gc_before, gc_after)
    spy.stop()
    return server, result | {"server_stop_s": round(stopped_s, 1),
                             "server_start_s": round(started_s, 1)}, api  # fmt: skip


async def echo_storm(args: argparse.Namespace) -> dict[str, Any]:
    """The same storm against the bare echo server (`echo_baseline.py`): the ceiling."""
    protocols = ["ocpp1.6", "ocpp2.0.1"]
    stations = [StormStation(f"LOAD-{i:05d}", protocols[i % 2]) for i in range(args.stations)]
    async with echo_server(args.port + 100) as url:
        result = await storm_phase(stations, url, args.attempts, args.timeout)
        for st in stations:
            await st.drop()
    return result


def with_ratio(phase: dict[str, Any], echo: dict[str, Any] | None) -> dict[str, Any]:
    """`echo_ratio`: the echo server's time to boot all stations over evhub's (1 = the
    ceiling of Python on this machine, measured in the same run)."""
    if echo is None or not echo["all_booted_s"] or not phase["all_booted_s"]:
        return phase
    return phase | {"echo_ratio": round(echo["all_booted_s"] / phase["all_booted_s"], 3)}


async def main(args: argparse.Namespace) -> dict[str, Any]:
    echo = await echo_storm(args) if args.baseline else None
    workdir = Path(tempfile.mkdtemp(prefix="evhub-storm-"))
    url = args.database_url or f"sqlite+aiosqlite:///{workdir}/storm.sqlite3"
    await migrate_async(url)
    await provision(url, args.stations, args.per_site)
    key = "evh_" + secrets.token_urlsafe(32)
    evhub = shutil.which("evhub") or str(Path(sys.executable).parent / "evhub")
    env = (
        os.environ
        | {
            "EVHUB_DATABASE_URL": url,
            "EVHUB_LOG_LEVEL": "warning",
            "EVHUB_VAR_DIR": str(workdir),
            "EVHUB_HEARTBEAT_INTERVAL_S": "3600",
            "EVHUB_BOOTSTRAP_ADMIN_KEY": key,
            "EVHUB_SECRET_KEY": secrets.token_urlsafe(48),  # as in production: keyed station hashes
        }
        | collector_timing.probe_env(workdir)
    )
    command = [evhub, "serve", "--port", str(args.port)]
    server = subprocess.Popen(command, env=env)
    spy = Spy(args.py_spy, args.py_spy_phase)
    spy.start("first", server.pid)
    base_url = f"http://127.0.0.1:{args.port}"
    ws_url = f"ws://127.0.0.1:{args.port}/ocpp"
    try:
        await wait_healthy(base_url)
        _, baseline = await measured(
            base_url, key, args.interval, lambda: asyncio.sleep(args.baseline_s)
        )
        protocols = ["ocpp1.6", "ocpp2.0.1"]
        stations = [StormStation(f"LOAD-{i:05d}", protocols[i % 2]) for i in range(args.stations)]

        def phase() -> Any:
            return storm_phase(stations, ws_url, args.attempts, args.timeout)

        def collector() -> dict[str, Any] | None:
            return collector_timing.collected(workdir, server.pid)

        spent, gc_before = cpu_s(server.pid), collector()
        cold, cold_api = await measured(base_url, key, args.interval, phase)
        cold = with_cpu(cold, cpu_s(server.pid) - spent, gc_before, collector())
        settled_first = await settled(server.pid)
        for st in stations:
            await st.drop()
        spy.start("reconnect", server.pid)
        spent, gc_before = cpu_s(server.pid), collector()
        reconnect, reconnect_api = await measured(base_url, key, args.interval, phase)
        reconnect = with_cpu(reconnect, cpu_s(server.pid) - spent, gc_before, collector())
        spy.stop()  # its server stops next
        restart = None
        if args.restart:
            settled_reconnect = await settled(server.pid)
            server, restart, restart_api = await restarted(
                server, command, env, base_url, key,
                args.interval, phase, spy, workdir,
            )  # fmt: skip
            restart = with_ratio(restart, echo) | {
                "api": latency(restart_api),
                "settled_before_s": settled_reconnect,
            }
        for st in stations:
            await st.drop()
        return {
            "database": url.split(":")[0],
            "stations": args.stations,
            "echo_baseline": echo and {k: v for k, v in echo.items() if k != "booted_by_second"},
            "api_baseline": latency(baseline),
            "first_connect": with_ratio(cold, echo) | {"api": latency(cold_api)},
            "reconnect": with_ratio(reconnect, echo)
            | {"api": latency(reconnect_api), "settled_before_s": settled_first},
            "restart": restart,
        }
    finally:
        spy.stop()
        server.terminate()
        server.wait(30)
        shutil.rmtree(workdir, ignore_errors=True)


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--stations", type=int, default=3000)
    p.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    p.add_argument("--port", type=int, default=8192)
    p.add_argument("--per-site", type=int, default=24, help="stations per site (hub)")
    p.add_argument("--interval", type=float, default=0.05, help="seconds between API calls")
    p.add_argument("--baseline-s", type=float, default=5.0, help="API-only measurement")
    p.add_argument("--attempts", type=int, default=20, help="handshakes per station at most")
    p.add_argument(
        "--baseline", action=argparse.BooleanOptionalAction, default=True,
        help="first run the same storm against a bare echo server (the ceiling)",
    )  # fmt: skip
    p.add_argument(
        "--restart", action=argparse.BooleanOptionalAction, default=True,
        help="last, restart the server with every station connected, and time their return",
    )  # fmt: skip
    p.add_argument("--py-spy", default=None, help="write the server's py-spy profile here")
    p.add_argument(
        "--py-spy-phase", choices=["first", "reconnect", "restart"], default="first",
        help="profile from the first connection to the end of the reconnection, or one phase",
    )  # fmt: skip
    p.add_argument("--timeout", type=float, default=300.0, help="give a storm up after this")
    return p.parse_args()


if __name__ == "__main__":
    result = asyncio.run(main(parse()))
    print(json.dumps(result, indent=2))
