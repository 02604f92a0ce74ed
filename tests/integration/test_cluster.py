"""Two nodes on one PostgreSQL and one NATS server: stations on both, one planner per site,
and a node killed with SIGKILL.

Station A charges through node 1, station B through node 2. A remote start sent to node 1
reaches B through NATS; node 2's event feed shows node 1's events; the site (on both nodes)
is planned by one leader, whose limits reach both stations. Node 1, the leader, is then
killed: A reconnects to node 2, node 2 takes the site's lead and plans again, commands reach
A through node 2, and each transaction keeps every acknowledged meter value once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from evhub.cluster.local import free_port, nats_binary, start_nats
from evhub.sim import SimEV, SimEvse, SimStation
from evhub.sim.profiles import Purpose
from tests.integration.live_server import PASSWORD
from tests.integration.server_process import ServerProcess
from tests.integration.test_event_feed import next_event, subscribed

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(nats_binary() is None, reason="needs nats-server"),
    pytest.mark.skipif(
        not (os.environ.get("EVHUB_TEST_DATABASE_URL") or "").startswith("postgresql"),
        reason="several nodes need PostgreSQL",
    ),
]

SITE_KW = 30.0
POLL_S = 0.05
# The nodes of one cluster share one secret: it signs the console's sessions and keys the
# stations' password hashes, which any node must verify.
NODE_SETTINGS = {
    "node_lease_s": 3.0, "leadership_poll_s": 0.2, "plan_interval_s": 2.0,
    "event_poll_s": 0.2, "migrate_on_start": "false",
}  # fmt: skip
PUSHER = "events.roaming.status_push"


@pytest.fixture
def nats_url(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    process = start_nats(tmp_path / "nats", port)
    try:
        yield f"nats://127.0.0.1:{port}"
    finally:
        process.kill()
        process.wait()


@pytest.fixture
async def nodes(database_url: str, nats_url: str) -> AsyncIterator[list[ServerProcess]]:
    secret = secrets.token_urlsafe(48)
    started = [
        ServerProcess(
            database_url,
            nats_url=nats_url,
            node_id=f"node-{n}",
            secret_key=secret,
            **NODE_SETTINGS,
        )
        for n in (1, 2)
    ]
    try:
        yield started
    finally:
        for node in started:
            await node.stop()


async def _until(check: Callable[[], Any], timeout_s: float, what: str) -> None:
    """Poll a condition with a bounded deadline (awaiting each check when it is a coroutine)."""
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                result = check()
                if asyncio.iscoroutine(result):
                    result = await result
                if result:
                    return
                await asyncio.sleep(POLL_S)
    except TimeoutError:
        raise AssertionError(f"timed out waiting until {what}") from None


async def _ok(r: httpx.Response) -> Any:
    assert r.status_code in (200, 201), r.text
    return r.json() if r.content else {}


async def _health(node: ServerProcess) -> dict[str, Any]:
    return dict((await node.http.get("/healthz")).json())


async def _leads(node: ServerProcess, name: str) -> bool:
    return name in (await _health(node))["leads"]


async def _active(http: httpx.AsyncClient, station_id: str) -> list[dict[str, Any]]:
    txs = (await http.get("/api/v1/transactions", params={"station_id": station_id})).json()
    return [t for t in txs if t["state"] == "active"]


def _tx_profiles(st: SimStation) -> int:
    return sum(1 for p in st.profile_log if p.purpose is Purpose.TX)


async def _setup(node: ServerProcess) -> int:
    http = node.http
    body = {"name": "Two nodes", "timezone": "Europe/Paris", "grid_limit_kw": SITE_KW}
    site = int((await _ok(await http.post("/api/v1/sites", json=body)))["id"])
    for sid in ("CP-A", "CP-B"):
        station = {"id": sid, "site_id": site, "password": PASSWORD, "evses": [{"evse_id": 1}]}
        await _ok(await http.post("/api/v1/stations", json=station))
    for tag in ("TAG-A", "TAG-B"):
        await _ok(await http.post("/api/v1/tokens", json={"uid": tag, "status": "Accepted"}))
    return site


def _station(sid: str, version: str, node: ServerProcess) -> SimStation:
    return SimStation(sid, PASSWORD, version, node.ws_base, [SimEvse(1, max_kw=22.0)],  # type: ignore[arg-type]
                      meter_interval_s=3600.0, reconnect_delay_s=0.2)  # fmt: skip


async def test_two_nodes_share_a_site_and_survive_the_leader_killed(
    nodes: list[ServerProcess],
) -> None:
    one, two = nodes
    await one.start()
    site = await _setup(one)
    plan_lock = f"planning.site.{site}"
    await _until(lambda: _leads(one, plan_lock), 10, "node 1 leads the site")
    a, b = _station("CP-A", "2.0.1", one), _station("CP-B", "1.6", two)
    stations = [a, b]
    try:
        await a.start()
        await two.start()
        # A node starting leaves another node's station online.
        assert (await _ok(await two.http.get("/api/v1/stations/CP-A")))["online"] is True
        await b.start()
        await _until(lambda: _connected(two, 1), 10, "B attached to node 2")
        # A consumer whose effects leave the database (a push to partners) runs on one node.
        await _until(lambda: _leads(one, PUSHER), 10, "node 1 runs the status pusher")
        assert not await _leads(two, PUSHER)

        # Node 2's event feed carries node 1's events (relayed through JetStream).
        params = {"kinds": "transaction.started"}
        async with two.http.stream("GET", "/api/v1/events", params=params) as feed:
            events = await subscribed(feed)
            # Remote start on node 1 for B, whose socket is on node 2.
            body = {"evse_id": 1, "id_token": "TAG-B"}
            started = await _ok(
                await one.http.post("/api/v1/stations/CP-B/remote-start", json=body)
            )
            assert started["status"] == "Accepted", started
            await b.plug_in(1, SimEV(battery_kwh=80, soc=0.1, max_ac_kw=22.0))
            await a.plug_in(1, SimEV(battery_kwh=80, soc=0.1, max_ac_kw=22.0), "TAG-A")
            await _until(lambda: _all_active(one), 10, "both transactions open")
            started_on = {(await next_event(events)).data["station_id"] for _ in range(2)}
        assert started_on == {"CP-A", "CP-B"}
        [tx_b] = await _active(two.http, "CP-B")
        assert tx_b["id_token"] == "TAG-B"

        # One leader plans the site; its limits reach the stations of both nodes.
        assert not await _leads(two, plan_lock)
        await _until(lambda: all(_tx_profiles(st) for st in stations), 20, "both limited")
        await _until(lambda: _total(stations) <= SITE_KW + 0.05, 20, "the site within its limit")

        for st in stations:  # acknowledged meter values, each committed before its answer
            await st.sample()
        told = [_tx_profiles(st) for st in stations]

        a.base_url = two.ws_base  # where haproxy would send A once node 1 is gone
        one.kill()
        await _until(lambda: _connected(two, 2), 20, "A reconnected to node 2")
        await _until(lambda: _leads(two, plan_lock), 10, "node 2 leads the site")
        await _until(lambda: _leads(two, PUSHER), 10, "node 2 runs the status pusher")
        # The survivor plans again and tells both stations.
        await _until(lambda: all(_tx_profiles(st) > n for st, n in zip(stations, told,
                                                                        strict=True)),
                     20, "the site re-planned by node 2")  # fmt: skip
        assert _total(stations) <= SITE_KW + 0.05
        trigger = await _ok(await two.http.post("/api/v1/stations/CP-A/trigger",
                                                json={"message": "Heartbeat"}))  # fmt: skip
        assert trigger["status"] == "Accepted", trigger

        for st in stations:
            await st.sample()
            await st.stop_transaction(1)
        await _check_transactions(two.http, stations)
    finally:
        for st in stations:
            await st.stop()


async def _connected(node: ServerProcess, n: int) -> bool:
    return int((await _health(node))["connected_stations"]) == n


async def _all_active(node: ServerProcess) -> bool:
    return all([await _active(node.http, sid) for sid in ("CP-A", "CP-B")])


def _total(stations: list[SimStation]) -> float:
    return sum(st.current_limit_kw(1) for st in stations)


async def _check_transactions(http: httpx.AsyncClient, stations: list[SimStation]) -> None:
    """One transaction per station, ended with the station's own meter, every meter value
    the station had answered kept once (two samples, one on each side of the kill)."""
    for st in stations:
        txs = (await http.get("/api/v1/transactions", params={"station_id": st.station_id})).json()
        assert len(txs) == 1, txs
        tx_id = int(txs[0]["id"])
        await _until(partial(_ended, http, tx_id), 10, f"{st.station_id}'s transaction ended")
        record = await _ok(await http.get(f"/api/v1/transactions/{tx_id}"))
        evse = st.evse(1)
        assert record["meter_stop_wh"] == round(evse.import_wh), (record, evse.import_wh)
        sent = [mv for _, p in st.sent for mv in p.get("meter_value", [])]
        stored = await _ok(await http.get(f"/api/v1/transactions/{tx_id}/meter-values"))
        assert {_at(v["timestamp"]) for v in stored} == {_at(mv["timestamp"]) for mv in sent}
        assert len(stored) == sum(len(mv["sampled_value"]) for mv in sent) >= 4, stored


def _at(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


async def _ended(http: httpx.AsyncClient, tx_id: int) -> bool:
    return (await _ok(await http.get(f"/api/v1/transactions/{tx_id}")))["state"] != "active"


async def test_workers_of_a_killed_parent_stop_with_it(database_url: str, nats_url: str) -> None:
    """`evhub serve --workers 2` killed with SIGKILL: its workers stop too, and none keeps the
    port (the balancer's health check then sends the stations elsewhere)."""
    node = ServerProcess(
        database_url, serve_args=("--workers", "2"), nats_url=nats_url, node_id="multi",
        secret_key=secrets.token_urlsafe(48), **NODE_SETTINGS,
    )  # fmt: skip
    await node.start()
    assert node.process is not None
    workers = psutil.Process(node.process.pid).children()
    try:
        assert len(workers) == 2
        node.kill()
        _, alive = await asyncio.to_thread(psutil.wait_procs, workers, 30)
        assert alive == []
    finally:
        for worker in workers:
            with contextlib.suppress(psutil.NoSuchProcess):
                worker.kill()
        await node.stop()
