"""Limits the planner sends, seen on the wire: grid-limit changes, units, operators' caps."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from evhub.sim import SimEV, SimEvse, SimStation
from tests.integration.live_server import PASSWORD, LiveServer, run_server
from tests.integration.ocpp_client import answer_until, connect

POLL_S = 0.05


def _v16_limit(payload: dict[str, Any]) -> tuple[str, float, str]:
    profile = payload["csChargingProfiles"]
    schedule = profile["chargingSchedule"]
    limit = schedule["chargingSchedulePeriod"][0]["limit"]
    return profile["chargingProfilePurpose"], limit, schedule["chargingRateUnit"]


async def test_a_grid_limit_change_replans_at_once(database_url: str) -> None:
    # The timer would wait an hour: only the change itself can bring the new TxDefault.
    async with run_server(database_url, plan_interval_s=3600.0) as server:
        site = await server.add_site(grid_limit_kw=40.0)
        await server.add_station("CP-G", site, evses=[{"evse_id": 1}, {"evse_id": 2}])
        async with connect(server.ws_base, "CP-G", "ocpp1.6") as st:
            # A tenth of 40 kW over two EVSEs: 2 kW each, 2.8 A on three phases.
            first = await answer_until(st, "SetChargingProfile", {"status": "Accepted"})
            assert _v16_limit(first[3]) == ("TxDefaultProfile", 2.8, "A")
            r = await server.http.patch(f"/api/v1/sites/{site}", json={"grid_limit_kw": 20.0})
            assert r.status_code == 200, r.text
            frame = await answer_until(
                st, "SetChargingProfile", {"status": "Accepted"},
                lambda p: _v16_limit(p)[1] < 2.8,
            )  # fmt: skip
        assert _v16_limit(frame[3]) == ("TxDefaultProfile", 1.4, "A")  # 1 kW, rounded down


async def test_an_idle_dc_evse_gets_its_txdefault_in_watts(server: LiveServer) -> None:
    site = await server.add_site(grid_limit_kw=300.0)
    dc = {"evse_id": 1, "current_type": "DC", "max_power_kw": 150.0}
    await server.add_station("CP-DC", site, evses=[dc])
    async with connect(server.ws_base, "CP-DC", "ocpp2.0.1") as st:
        frame = await answer_until(st, "SetChargingProfile", {"status": "Accepted"})
    profile = frame[3]["chargingProfile"]
    schedule = profile["chargingSchedule"][0]
    assert profile["chargingProfilePurpose"] == "TxDefaultProfile"
    assert schedule["chargingRateUnit"] == "W"
    assert schedule["chargingSchedulePeriod"][0]["limit"] == 30000.0  # a tenth of 300 kW


async def test_a_16_station_that_takes_only_power_is_told_in_watts(server: LiveServer) -> None:
    site = await server.add_site(grid_limit_kw=40.0)
    await server.add_station("CP-W", site, evses=[{"evse_id": 1}])
    st = SimStation("CP-W", PASSWORD, "1.6", server.ws_base, [SimEvse(1)])
    st.config.values["ChargingScheduleAllowedChargingRateUnit"] = "Power"
    await st.start()
    try:
        async with asyncio.timeout(10):
            while not any(p.unit == "W" for p in st.profiles):
                await asyncio.sleep(POLL_S)  # the station reports no event to await
        [profile] = st.profiles
        assert profile.periods[0].limit == 4000.0  # 4 kW TxDefault on the only EVSE
    finally:
        await st.stop()


async def test_an_operator_cap_is_respected_by_every_plan_until_cleared(
    database_url: str,
) -> None:
    async with run_server(database_url, plan_interval_s=0.5) as server:
        site = await server.add_site(grid_limit_kw=40.0)
        await server.add_station("CP-C", site, evses=[{"evse_id": 1}])
        await server.add_token("TAGC")
        st = SimStation("CP-C", PASSWORD, "2.0.1", server.ws_base, [SimEvse(1)])
        await st.start()
        try:
            await st.plug_in(1, SimEV(battery_kwh=80, soc=0.1, max_ac_kw=22.0), "TAGC")
            [tx] = (await server.http.get("/api/v1/transactions")).json()
            departure = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
            need = {"energy_kwh": 40.0, "departure": departure}  # as fast as it can
            r = await server.http.put(f"/api/v1/transactions/{tx['id']}/need", json=need)
            assert r.status_code == 200, r.text
            await _until(lambda: st.current_limit_kw(1) > 15.0)
            r = await server.http.post(
                "/api/v1/stations/CP-C/charging-limit", json={"evse_id": 1, "limit_kw": 5.0}
            )
            assert r.status_code == 200 and r.json()["status"] == "Accepted", r.text
            await _until(lambda: st.current_limit_kw(1) <= 5.0)
            # The timer's plans (every half second) keep it: the site's plan stays capped.
            first = _computed_at(server, site)
            await _until(lambda: _computed_at(server, site) != first)
            plan = (await server.http.get(f"/api/v1/sites/{site}/plan")).json()
            assert [s["limit_kw"] <= 5.0 for s in plan["sessions"]] == [True], plan
            assert st.current_limit_kw(1) <= 5.0
            r = await server.http.delete("/api/v1/stations/CP-C/charging-limit/1")
            assert r.status_code == 204
            await _until(lambda: st.current_limit_kw(1) > 15.0)
        finally:
            await st.stop()


async def _until(check: Any, timeout_s: float = 10.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not check():
            await asyncio.sleep(POLL_S)  # the simulated station reports no event to await


def _computed_at(server: LiveServer, site: int) -> object:
    current = server.app.state.planner.plans.get(site)
    return None if current is None else current.computed_at
