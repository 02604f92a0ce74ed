"""A server stopped as a deploy stops it (SIGTERM) with stations connected.

Its stations are marked offline, each with one `station.disconnected` event, before their
sockets are asked to close: a station that sees its socket close already reads offline in the
database, the server stops as uvicorn stops, and nothing is cancelled or logged as a traceback.
"""

from __future__ import annotations

import asyncio
import json
import signal
from contextlib import AsyncExitStack

import httpx
from sqlalchemy import select
from websockets.exceptions import ConnectionClosed

from evhub.assets.models import Station
from evhub.db import create_engine, session_factory
from evhub.events.models import OutboxEvent
from evhub.uow import UnitOfWork
from tests.integration.live_server import PASSWORD
from tests.integration.ocpp_client import RawStation, connect
from tests.integration.server_process import ServerProcess

STATIONS = 12


async def _ok(r: httpx.Response) -> None:
    assert r.status_code in (200, 201), r.text


async def _online(uow: UnitOfWork, station_id: str) -> bool:
    async with uow() as s:
        return bool(await s.scalar(select(Station.online).where(Station.id == station_id)))


async def _closed_then_read(station: RawStation, uow: UnitOfWork) -> bool:
    """Wait for the server to close the socket; then whether the station still reads online."""
    try:
        while True:
            await station.ws.recv()  # the planner's profiles may come first: not answered
    except ConnectionClosed:
        pass
    return await _online(uow, station.id)


async def test_a_stopping_server_marks_its_stations_offline_before_closing_them(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    uow = UnitOfWork(session_factory(engine))
    server = ServerProcess(database_url)
    await server.start()
    try:
        body = {"name": "Stop hub", "timezone": "Europe/Paris", "grid_limit_kw": 200.0}
        r = await server.http.post("/api/v1/sites", json=body)
        await _ok(r)
        site = r.json()["id"]
        ids = [f"STOP-{n:02d}" for n in range(STATIONS)]
        for sid in ids:
            station = {"id": sid, "site_id": site, "password": PASSWORD, "evses": [{"evse_id": 1}]}
            await _ok(await server.http.post("/api/v1/stations", json=station))
        async with AsyncExitStack() as stack:
            stations = []
            for n, sid in enumerate(ids):
                protocol = "ocpp1.6" if n % 2 else "ocpp2.0.1"
                st = await stack.enter_async_context(connect(server.ws_base, sid, protocol))
                boot = (
                    {"chargePointVendor": "Stop", "chargePointModel": "S1"}
                    if protocol == "ocpp1.6"
                    else {"chargingStation": {"vendorName": "Stop", "model": "S2"},
                          "reason": "PowerUp"}
                )  # fmt: skip
                assert (await st.result("BootNotification", boot))["status"] == "Accepted"
                stations.append(st)
            assert all([await _online(uow, sid) for sid in ids])
            assert server.process is not None
            server.process.terminate()
            still_online = await asyncio.gather(*(_closed_then_read(st, uow) for st in stations))
            assert not any(still_online)
        # uvicorn ends a clean stop by raising the signal it caught again: killed by SIGTERM.
        assert await asyncio.to_thread(server.process.wait, 30) == -signal.SIGTERM
        async with uow() as s:
            payloads = list(
                await s.scalars(
                    select(OutboxEvent.payload).where(OutboxEvent.kind == "station.disconnected")
                )
            )
        marked = sorted(json.loads(p)["station_id"] for p in payloads)
        assert marked == ids  # one each: none missing, none written twice
        log = server.log_path.read_text()
        assert "Traceback" not in log and "timeout graceful shutdown" not in log, log[-3000:]
    finally:
        await server.stop()
        await engine.dispose()
