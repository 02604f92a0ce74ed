"""Where a car's need comes from: the driver, the car itself (ISO 15118), or history."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.integration.live_server import LiveServer
from tests.integration.ocpp_client import RawStation, connect
from tests.integration.test_ocpp201_flows import event


async def _planned(server: LiveServer, site: int, source: str) -> dict[str, Any]:
    async with asyncio.timeout(5):
        while True:
            plan = (await server.http.get(f"/api/v1/sites/{site}/plan")).json()
            if plan["sessions"] and plan["sessions"][0]["need_source"] == source:
                return dict(plan["sessions"][0])
            await asyncio.sleep(0.05)


async def _start(st: RawStation) -> None:
    started = event("Started", 0, "2026-11-23T10:00:00Z", evse={"id": 1, "connectorId": 1})
    await st.result("TransactionEvent", started)


async def test_iso15118_needs_reach_the_plan_until_the_driver_declares(server: LiveServer) -> None:
    site = await server.add_site(grid_limit_kw=50)
    await server.add_station(
        "CP-V2", site, evses=[{"evse_id": 1, "current_type": "DC", "max_power_kw": 50}]
    )
    async with connect(server.ws_base, "CP-V2", "ocpp2.0.1") as st:
        await _start(st)
        assert (await _planned(server, site, "history"))["need_kwh"] == 20.0
        needs = {
            "requestedEnergyTransfer": "DC",
            "departureTime": "2030-01-01T12:00:00Z",
            "dcChargingParameters": {
                "evMaxCurrent": 125,
                "evMaxVoltage": 400,
                "energyAmount": 30000,
                "evEnergyCapacity": 77000,
            },
        }
        reply = await st.call("NotifyEVChargingNeeds", {"evseId": 1, "chargingNeeds": needs})
        assert reply[2] == {"status": "Accepted"}
        planned = await _planned(server, site, "iso15118")
        assert planned["need_kwh"] == 30.0 and planned["departure"].startswith("2030-01-01T12:00")
        [tx] = (
            await server.http.get("/api/v1/transactions", params={"station_id": "CP-V2"})
        ).json()
        r = await server.http.put(
            f"/api/v1/transactions/{tx['id']}/need",
            json={"energy_kwh": 12.5, "departure": "2030-01-01T09:00:00+01:00"},
        )
        assert r.status_code == 200 and r.json()["source"] == "driver"
        assert (await _planned(server, site, "driver"))["need_kwh"] == 12.5
        # The car speaking again does not override what its driver said.
        await st.call("NotifyEVChargingNeeds", {"evseId": 1, "chargingNeeds": needs})
        assert (await _planned(server, site, "driver"))["need_kwh"] == 12.5


async def test_need_of_an_unknown_or_ended_transaction_is_refused(server: LiveServer) -> None:
    r = await server.http.put(
        "/api/v1/transactions/999/need", json={"energy_kwh": 5, "departure": "2030-01-01T00:00:00Z"}
    )
    assert r.status_code == 404
    r = await server.http.put(
        "/api/v1/transactions/1/need", json={"energy_kwh": -5, "departure": "2030-01-01T00:00:00Z"}
    )
    assert r.status_code == 422
