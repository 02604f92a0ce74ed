"""Maintenance: faults, silent stations, boot loops, stuck meters and security events open
tickets that close when the condition clears or when a technician closes them; availability.

The server runs on a frozen clock that the tests move, and a fast watchdog.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from evhub.clock import FrozenClock
from evhub.ocpp.timestamps import format_time
from tests.integration.live_server import LiveServer, run_server
from tests.integration.ocpp_client import RawStation, connect

T0 = datetime(2026, 11, 23, 10, tzinfo=UTC)
FAST = {"watchdog_period_s": 0.05, "offline_grace_s": 5, "stuck_transaction_after_s": 60}
BOOT16 = {"chargePointVendor": "Alfen", "chargePointModel": "Eve Single"}
BOOT201 = {"chargingStation": {"model": "Terra 184", "vendorName": "ABB"}, "reason": "PowerUp"}

Tickets = list[dict[str, Any]]


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
async def server(database_url: str, clock: FrozenClock) -> AsyncIterator[LiveServer]:
    async with run_server(database_url, clock=clock, heartbeat_interval_s=10, **FAST) as live:
        yield live


async def _setup(server: LiveServer, station_id: str, town: str = "Lyon") -> int:
    site = await server.add_site(town=town)
    await server.add_station(station_id, site, evses=[{"evse_id": 1}, {"evse_id": 2}])
    await server.add_token("TAG-OK")
    return site


def at(seconds: float) -> str:
    return format_time(T0 + timedelta(seconds=seconds))


async def tickets(server: LiveServer, **params: Any) -> Tickets:
    r = await server.http.get("/api/v1/tickets", params=params)
    assert r.status_code == 200, r.text
    return list(r.json())


async def eventually(
    server: LiveServer, check: Callable[[Tickets], bool], **params: Any
) -> Tickets:
    """The tickets matching `params` once `check` holds (the detectors run asynchronously)."""
    async with asyncio.timeout(10):
        while not check(found := await tickets(server, **params)):
            await asyncio.sleep(0.05)
    return found


def one_open(found: Tickets) -> bool:
    return len(found) == 1 and found[0]["state"] == "open"


def one_closed(found: Tickets) -> bool:
    return len(found) == 1 and found[0]["state"] == "closed"


async def status16(st: RawStation, connector: int, status: str, ts: str, error: str = "NoError"):  # type: ignore[no-untyped-def]
    payload = {"connectorId": connector, "errorCode": error, "status": status, "timestamp": ts}
    await st.result("StatusNotification", payload)


async def test_faulted_connector_opens_a_ticket_closed_when_available_again(
    server: LiveServer,
) -> None:
    await _setup(server, "CP-16")
    async with connect(server.ws_base, "CP-16", "ocpp1.6") as st:
        await st.result("BootNotification", BOOT16)
        await status16(st, 1, "Faulted", "2026-11-23T10:00:00Z", "GroundFailure")
        (ticket,) = await eventually(server, one_open, station_id="CP-16")
        assert (ticket["cause"], ticket["severity"], ticket["detail"]) == (
            "faulted",
            "high",
            "GroundFailure",
        )
        assert (ticket["evse_id"], ticket["connector_id"]) == (1, 1)
        assert ticket["first_seen"].startswith("2026-11-23T10:00:00")

        await status16(st, 1, "Available", "2026-11-23T12:00:00Z")
        (closed,) = await eventually(server, one_closed, station_id="CP-16")
    assert closed["id"] == ticket["id"]
    assert closed["downtime_s"] == 7200
    assert closed["closed_at"].startswith("2026-11-23T12:00:00")
    assert closed["closed_by"] == "system"


async def test_repeated_faults_count_on_one_ticket_per_connector(server: LiveServer) -> None:
    await _setup(server, "CP-16")
    async with connect(server.ws_base, "CP-16", "ocpp1.6") as st:
        await status16(st, 1, "Faulted", at(0), "GroundFailure")
        await status16(st, 1, "Faulted", at(10), "OverCurrentFailure")
        await status16(st, 1, "Faulted", at(20), "GroundFailure")
        await status16(st, 1, "Faulted", at(30), "GroundFailure")  # no change: no news
        await status16(st, 2, "Faulted", at(40), "PowerMeterFailure")

        def settled(found: Tickets) -> bool:
            return len(found) == 2 and {t["count"] for t in found} == {3, 1}

        found = await eventually(server, settled, state="open")
    by_evse = {t["evse_id"]: t for t in found}
    assert by_evse[1]["count"] == 3 and by_evse[1]["detail"] == "GroundFailure"
    assert by_evse[1]["last_seen"].startswith(at(20)[:19])
    assert by_evse[2]["count"] == 1


async def test_faulted_then_unavailable_splits_the_downtime_by_cause(server: LiveServer) -> None:
    await _setup(server, "CP-2")
    async with connect(server.ws_base, "CP-2", "ocpp2.0.1") as st:
        await st.result("BootNotification", BOOT201)
        for seconds, status in ((0, "Faulted"), (600, "Unavailable"), (900, "Available")):
            payload = {"timestamp": at(seconds), "connectorStatus": status, "evseId": 1}
            await st.result("StatusNotification", payload | {"connectorId": 1})

        def both_closed(found: Tickets) -> bool:
            return len(found) == 2 and all(t["state"] == "closed" for t in found)

        found = await eventually(server, both_closed, station_id="CP-2")
    assert {t["cause"]: t["downtime_s"] for t in found} == {"faulted": 600, "unavailable": 300}


async def test_silent_station_is_offline_until_heard_again(
    server: LiveServer, clock: FrozenClock
) -> None:
    await _setup(server, "CP-16")
    async with connect(server.ws_base, "CP-16", "ocpp1.6") as st:
        await st.result("BootNotification", BOOT16)
        await status16(st, 1, "Available", at(0))
        clock.advance(31)  # heartbeat every 10 s: three missed
        (ticket,) = await eventually(server, one_open, cause="offline")
        assert ticket["first_seen"].startswith(at(0)[:19])
        assert ticket["detail"] == "heartbeats missed"
        assert (ticket["evse_id"], ticket["connector_id"]) == (None, None)

        clock.advance(9)
        await st.result("Heartbeat", {})
        (closed,) = await eventually(server, one_closed, cause="offline")
        assert closed["downtime_s"] == 40

        clock.advance(20)
        r = await server.http.get(
            "/api/v1/availability", params={"station_id": "CP-16", "from": at(0), "to": at(60)}
        )
    assert r.status_code == 200, r.text
    (connector,) = [c for c in r.json()["connectors"] if c["evse_id"] == 1]
    assert connector["figures"]["downtime_by_cause"] == {"offline": 40}
    assert connector["figures"]["available_s"] == 20


async def test_closed_connection_is_offline_after_the_grace_period(
    server: LiveServer, clock: FrozenClock
) -> None:
    await _setup(server, "CP-2")
    async with connect(server.ws_base, "CP-2", "ocpp2.0.1") as st:
        await st.result("BootNotification", BOOT201)
    async with asyncio.timeout(10):
        while (await server.http.get("/api/v1/stations/CP-2")).json()["online"]:
            await asyncio.sleep(0.02)
    clock.advance(4)
    await asyncio.sleep(0.2)
    assert await tickets(server, cause="offline") == []  # within the grace period

    clock.advance(2)
    (ticket,) = await eventually(server, one_open, cause="offline")
    assert ticket["detail"] == "connection closed"

    clock.advance(4)
    async with connect(server.ws_base, "CP-2", "ocpp2.0.1") as st:
        await st.result("BootNotification", BOOT201)
        (closed,) = await eventually(server, one_closed, cause="offline")
    assert closed["downtime_s"] == 10


async def test_boot_loop_opens_a_ticket_closed_after_a_quiet_window(
    database_url: str, clock: FrozenClock
) -> None:
    async with run_server(database_url, clock=clock, **FAST) as server:  # heartbeat 300 s
        await _setup(server, "CP-2")
        async with connect(server.ws_base, "CP-2", "ocpp2.0.1") as st:
            for _ in range(3):
                await st.result("BootNotification", BOOT201)
                clock.advance(60)
            (ticket,) = await eventually(server, one_open, cause="boot_loop")
            assert ticket["first_seen"].startswith(at(0)[:19])
            assert ticket["detail"] == "3 boots within 600 s"

            await st.result("BootNotification", BOOT201)  # a fourth, at T0 + 180 s
            await eventually(server, lambda f: f[0]["count"] == 2, cause="boot_loop")

            clock.advance(599)
            await asyncio.sleep(0.2)
            assert one_open(await tickets(server, cause="boot_loop"))
            clock.advance(1)
            (closed,) = await eventually(server, one_closed, cause="boot_loop")
    assert closed["downtime_s"] == 780


def _register(ts: str, wh: int) -> dict[str, Any]:
    value = {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
    return {"timestamp": ts, "sampledValue": [value]}


async def _start16(st: RawStation, ts: str) -> int:
    started = await st.result(
        "StartTransaction",
        {"connectorId": 1, "idTag": "TAG-OK", "meterStart": 1000, "timestamp": ts},
    )
    return int(started["transactionId"])


async def _meter16(st: RawStation, tx: int, ts: str, wh: int) -> None:
    payload = {"connectorId": 1, "transactionId": tx, "meterValue": [_register(ts, wh)]}
    await st.result("MeterValues", payload)


async def test_stuck_transaction_opens_a_ticket_until_metered_or_ended(
    server: LiveServer, clock: FrozenClock
) -> None:
    await _setup(server, "CP-16")
    async with connect(server.ws_base, "CP-16", "ocpp1.6") as st:
        await st.result("BootNotification", BOOT16)
        tx = await _start16(st, at(0))
        await _meter16(st, tx, at(30), 1500)
        clock.advance(91)
        await st.result("Heartbeat", {})
        (ticket,) = await eventually(server, one_open, cause="stuck_transaction")
        assert (ticket["transaction_id"], ticket["evse_id"]) == (tx, 1)
        assert ticket["first_seen"].startswith(at(30)[:19])

        clock.advance(4)
        await _meter16(st, tx, at(95), 1600)
        (closed,) = await eventually(server, one_closed, cause="stuck_transaction")
        assert closed["downtime_s"] == 65

        clock.advance(61)
        await st.result("Heartbeat", {})
        await eventually(server, lambda f: len(f) == 1, cause="stuck_transaction", state="open")
        stop = {"transactionId": tx, "meterStop": 1600, "timestamp": at(160), "reason": "Local"}
        await st.result("StopTransaction", stop)
        await eventually(server, lambda f: len(f) == 2, cause="stuck_transaction", state="closed")


async def test_energy_register_going_back_opens_a_ticket(server: LiveServer) -> None:
    await _setup(server, "CP-16")
    async with connect(server.ws_base, "CP-16", "ocpp1.6") as st:
        tx = await _start16(st, at(0))
        await _meter16(st, tx, at(10), 1500)
        await _meter16(st, tx, at(20), 1200)
        (ticket,) = await eventually(server, one_open, cause="meter_regression")
        assert "1500 Wh to 1200 Wh" in ticket["detail"]
        stop = {"transactionId": tx, "meterStop": 1600, "timestamp": at(30), "reason": "Local"}
        await st.result("StopTransaction", stop)
        await eventually(server, one_closed, cause="meter_regression")


async def test_security_events_open_a_ticket_a_technician_closes(server: LiveServer) -> None:
    site = await _setup(server, "CP-2")
    async with connect(server.ws_base, "CP-2", "ocpp2.0.1") as st:
        for kind in ("StartupOfTheDevice", "TamperDetectionActivated", "InvalidMessages"):
            await st.result("SecurityEventNotification", {"type": kind, "timestamp": at(0)})

        def counted_twice(found: Tickets) -> bool:
            return len(found) == 1 and found[0]["count"] == 2

        (ticket,) = await eventually(server, counted_twice, cause="security_event")
    assert (ticket["severity"], ticket["detail"]) == ("critical", "InvalidMessages")
    assert (await tickets(server, site_id=site, state="open"))[0]["id"] == ticket["id"]
    assert await tickets(server, site_id=site + 1) == []

    path = f"/api/v1/tickets/{ticket['id']}"
    r = await server.http.post(f"{path}/close", json={"note": "Lid resealed", "closed_by": "ana"})
    assert r.status_code == 200, r.text
    closed = r.json()
    assert (closed["state"], closed["note"], closed["closed_by"]) == (
        "closed",
        "Lid resealed",
        "ana",
    )
    assert closed["downtime_s"] == 0
    assert (await server.http.get(path)).json() == closed

    again = await server.http.post(f"{path}/close", json={"note": "twice"})
    assert again.status_code == 409
    assert (await server.http.post(f"{path}/close", json={"note": ""})).status_code == 422
    assert (
        await server.http.post("/api/v1/tickets/999/close", json={"note": "x"})
    ).status_code == 404
    assert (await server.http.get("/api/v1/tickets/999")).status_code == 404


async def test_availability_per_connector_station_site_and_town(server: LiveServer) -> None:
    site = await _setup(server, "CP-16", town="Lyon")
    async with connect(server.ws_base, "CP-16", "ocpp1.6") as st:
        await status16(st, 1, "Available", "2026-11-22T00:00:00Z")
        await status16(st, 2, "Available", "2026-11-22T00:00:00Z")
        await status16(st, 1, "Faulted", "2026-11-22T06:00:00Z", "GroundFailure")
        await status16(st, 1, "Charging", "2026-11-22T08:00:00Z")
    day = {"from": "2026-11-22T00:00:00Z", "to": "2026-11-23T00:00:00"}  # no offset: UTC

    r = await server.http.get("/api/v1/availability", params=day | {"town": "lyon"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["from"].startswith("2026-11-22T00:00:00") and body["to"].startswith("2026-11-23")
    assert body["total"]["availability_pct"] == pytest.approx(100 * (2 * 24 - 2) / 48)
    assert body["total"]["downtime_by_cause"] == {"faulted": 7200}
    assert [s["site_id"] for s in body["sites"]] == [site]
    assert body["stations"][0]["figures"] == body["total"]
    connectors = {c["evse_id"]: c["figures"] for c in body["connectors"]}
    assert connectors[1]["availability_pct"] == pytest.approx(100 * 22 / 24)
    assert connectors[2]["availability_pct"] == 100

    by_site = await server.http.get("/api/v1/availability", params=day | {"site_id": site})
    assert by_site.json()["total"] == body["total"]
    elsewhere = await server.http.get("/api/v1/availability", params=day | {"town": "Nantes"})
    assert elsewhere.json()["total"]["availability_pct"] is None
    reversed_ = {"from": day["to"], "to": day["from"]}
    assert (await server.http.get("/api/v1/availability", params=reversed_)).status_code == 422
