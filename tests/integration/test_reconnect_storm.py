"""A reconnect storm: a few hundred stations connect and boot at once while an operator tool
pages through the stations. Every station ends booted and online; every API request is answered
with the full total; a station is refused only with 503 and a Retry-After (too many handshakes
pending), and gets in when it tries again. Timing belongs to benchmarks/reconnect_storm.py."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import func, select
from websockets.exceptions import InvalidStatus

from evhub.assets import service as assets
from evhub.assets.models import Connector, Evse, Station
from evhub.assets.service import EvseSpec
from tests.integration.live_server import PASSWORD, LiveServer, run_server
from tests.integration.ocpp_client import RawStation, connect

STATIONS = 240
PAGE = 50
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
# Few handshake slots, so that the storm queues for them; the cap on pending handshakes (and on
# connections still sending headers) stays at its default, above the storm.
GUARDS = {"ocpp_handshake_concurrency": 4, "secret_key": "storm-test-secret-" + "k" * 32}


@dataclass
class Storm:
    booted: int = 0
    progress: asyncio.Condition = field(default_factory=asyncio.Condition)
    refusals: list[tuple[int, str | None]] = field(default_factory=list)


async def _provision(server: LiveServer) -> list[str]:
    ids = [f"STORM-{n:03d}" for n in range(STATIONS)]
    async with server.app.state.services.uow() as s:
        site = await assets.create_site(s, NOW, "Storm hub", "Europe/Paris", 2000.0)
        for station_id in ids:
            await assets.create_station(s, NOW, station_id, site.id, PASSWORD, [EvseSpec(1)])
    return ids


async def _boot(station: RawStation, protocol: str) -> None:
    if protocol == "ocpp1.6":
        boot = {"chargePointVendor": "Storm", "chargePointModel": "S1"}
        status = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
    else:
        boot = {"chargingStation": {"vendorName": "Storm", "model": "S2"}, "reason": "PowerUp"}
        status = {"evseId": 1, "connectorId": 1, "connectorStatus": "Available"}
    assert (await station.result("BootNotification", boot))["status"] == "Accepted"
    await station.result("StatusNotification", status | {"timestamp": NOW.isoformat()})


async def _station(
    server: LiveServer, station_id: str, protocol: str, storm: Storm, sockets: Any
) -> None:
    """Connect (again after a refusal, once another station got in) and boot; stay online."""
    async with asyncio.timeout(180):  # a bound on failure: the suite shares two cores
        while True:
            seen = storm.booted
            try:
                station = await sockets.enter_async_context(
                    connect(server.ws_base, station_id, protocol)
                )
            except InvalidStatus as refused:
                response = refused.response
                storm.refusals.append((response.status_code, response.headers.get("Retry-After")))
                async with storm.progress:  # a handshake slot freed: someone got in since
                    await storm.progress.wait_for(lambda seen=seen: storm.booted > seen)
                continue
            await _boot(station, protocol)
            async with storm.progress:
                storm.booted += 1
                storm.progress.notify_all()
            return


async def _list_pages(http: httpx.AsyncClient, done: asyncio.Event) -> list[tuple[int, str]]:
    """Page through the stations again and again until `done`: (status, total) of each page;
    every full pass must see every station once."""
    answers: list[tuple[int, str]] = []
    while not done.is_set():
        seen: list[str] = []
        for offset in range(0, STATIONS, PAGE):
            r = await http.get("/api/v1/stations", params={"limit": PAGE, "offset": offset})
            answers.append((r.status_code, r.headers.get("X-Total-Count", "")))
            seen += [s["id"] for s in r.json()] if r.status_code == 200 else []
        assert len(seen) == len(set(seen)) == STATIONS
    return answers


async def test_a_storm_of_stations_boots_every_one_while_the_api_answers(
    database_url: str,
) -> None:
    async with run_server(database_url, **GUARDS) as server:
        ids = await _provision(server)
        operator = await server.client("operator")
        storm, done = Storm(), asyncio.Event()
        async with contextlib.AsyncExitStack() as sockets:
            async with asyncio.TaskGroup() as group:
                lister = group.create_task(_list_pages(operator, done))
                stations = [
                    group.create_task(
                        _station(server, sid, ("ocpp1.6", "ocpp2.0.1")[n % 2], storm, sockets)
                    )
                    for n, sid in enumerate(ids)
                ]
                await asyncio.gather(*stations)
                done.set()
            await _assert_all_booted_and_online(server, ids)
        answers = lister.result()
    assert answers and all(answer == (200, str(STATIONS)) for answer in answers)
    assert all(status == 503 and retry for status, retry in storm.refusals), storm.refusals


async def _assert_all_booted_and_online(server: LiveServer, ids: list[str]) -> None:
    async with server.app.state.services.uow() as s:
        stations = (await s.execute(select(Station).where(Station.id.in_(ids)))).scalars().all()
        available = await s.scalar(
            select(func.count())
            .select_from(Connector)
            .join(Evse)
            .where(Evse.station_id.in_(ids), Connector.status == "Available")
        )
    assert len(stations) == STATIONS
    assert all(st.online and st.registration_status == "Accepted" for st in stations)
    assert all(st.last_boot_at is not None and st.ocpp_version for st in stations)
    # Each first login replaced the stored PBKDF2 hash by the keyed one, in the storm.
    assert all(st.password_hash.startswith("hmac_sha256$") for st in stations)
    assert available == STATIONS
