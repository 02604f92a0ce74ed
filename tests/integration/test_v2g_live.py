"""Vehicle-to-grid live: an OCPP 2.1 station's bidirectional car feeds the grid while energy is
dear and still leaves with its target; a 1.6 and a 2.0.1 station beside it only ever charge.

Real server, real sockets: simulated stations, the site's day-ahead prices imported through the
prices service, the driver's consent through the REST API.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from evhub.charging.models import MeterValue
from evhub.clock import AcceleratedClock
from evhub.planning.v2x_needs import EFFICIENCY
from evhub.prices import service as prices
from evhub.prices.points import PricePoint
from evhub.sim import SimEV, SimEvse, SimStation
from evhub.sim.station import OcppVersion
from tests.integration.live_server import PASSWORD, LiveServer, run_server

START = datetime(2026, 11, 23, 9, tzinfo=UTC)
SPEED = 120.0  # two simulated minutes per second
DEAR_EUR_PER_MWH, CHEAP_EUR_PER_MWH = Decimal(300), Decimal(40)
BATTERY_KWH, SOC, TARGET_SOC, MIN_SOC = 60.0, 0.6, 0.8, 0.3
EXPORT = "Energy.Active.Export.Register"
DEAR_HOURS = range(3)  # then cheap until the departure, 6 h after START


async def _import_prices(server: LiveServer, site: int) -> None:
    """The coming hours dear, the rest of the day cheap (hourly, from an hour before now).

    Dear for long enough (90 s of wall time) that a slow machine still plans within it."""
    points = [
        PricePoint(
            START + timedelta(hours=h), DEAR_EUR_PER_MWH if h in DEAR_HOURS else CHEAP_EUR_PER_MWH
        )
        for h in range(-1, 24)
    ]
    async with server.app.state.services.uow() as s:
        assert await prices.import_prices(s, START, points, site_id=site) == len(points)


async def _running_tx(server: LiveServer, station_id: str) -> int:
    async with asyncio.timeout(10):
        while True:
            txs = (
                await server.http.get("/api/v1/transactions", params={"station_id": station_id})
            ).json()
            if any(t["state"] == "active" for t in txs):
                return next(int(t["id"]) for t in txs if t["state"] == "active")
            await asyncio.sleep(0.05)


async def _planned(
    server: LiveServer, site: int, tx: int, check: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """The site's plan once its session of `tx` passes `check` (the planner re-plans
    asynchronously, on each event)."""
    async with asyncio.timeout(20):
        while True:
            plan = (await server.http.get(f"/api/v1/sites/{site}/plan")).json()
            mine = [s for s in plan["sessions"] if s["transaction_id"] == tx]
            if mine and check(mine[0]):
                return {"plan": plan, "session": mine[0]}
            await asyncio.sleep(0.05)


def _profiles(st: SimStation) -> list[dict[str, Any]]:
    return [p for action, p in st.received if action == "SetChargingProfile"]


def _periods(profile: dict[str, Any]) -> list[dict[str, Any]]:
    if "cs_charging_profiles" in profile:  # OCPP 1.6: one schedule per profile
        return list(
            profile["cs_charging_profiles"]["charging_schedule"]["charging_schedule_period"]
        )
    return [
        period
        for schedule in profile["charging_profile"]["charging_schedule"]
        for period in schedule["charging_schedule_period"]
    ]


async def _exported_wh(server: LiveServer, station_id: str) -> float:
    async with server.app.state.services.uow() as s:
        value = await s.scalar(
            select(func.max(MeterValue.value)).where(
                MeterValue.station_id == station_id, MeterValue.measurand == EXPORT
            )
        )
    return float(value or 0.0)


def _stored_kwh(allocated_kw: list[float], slot_minutes: float) -> float:
    """What the plan puts into the battery (drawing loses, feeding takes more than it gives)."""
    hours = slot_minutes / 60
    return sum((p * EFFICIENCY if p > 0 else p / EFFICIENCY) * hours for p in allocated_kw)


async def test_consenting_21_car_discharges_while_dear_and_16_and_201_stations_only_charge(
    database_url: str,
) -> None:
    clock = AcceleratedClock(START, SPEED)
    async with run_server(database_url, clock=clock, plan_interval_s=60.0) as server:
        site = await server.add_site(grid_limit_kw=150.0)
        dc = [{"evse_id": 1, "current_type": "DC", "max_power_kw": 50.0}]
        ids: dict[OcppVersion, str] = {"2.1": "CP-21", "2.0.1": "CP-201", "1.6": "CP-16"}
        for sid in ids.values():
            await server.add_station(sid, site, evses=dc)
            await server.add_token(f"TAG{sid[3:]}")
        await _import_prices(server, site)
        stations = {
            version: SimStation(
                sid,
                PASSWORD,
                version,
                server.ws_base,
                [SimEvse(1, dc=True, max_kw=50.0)],
                clock=clock,
                meter_interval_s=30.0,
            )  # fmt: skip
            for version, sid in ids.items()
        }
        for st in stations.values():
            await st.start()
        try:
            departure = START + timedelta(hours=6)
            cars = {
                version: SimEV(
                    battery_kwh=BATTERY_KWH,
                    soc=SOC,
                    target_soc=TARGET_SOC,
                    max_dc_kw=50.0,
                    v2g=True,
                    max_discharge_kw=20.0,
                    min_soc=MIN_SOC,
                    departure=departure,
                    name=version,
                )  # fmt: skip
                for version in stations
            }
            for version, sid in ids.items():
                await stations[version].plug_in(1, cars[version], f"TAG{sid[3:]}")
            tx21 = await _running_tx(server, "CP-21")
            tx201 = await _running_tx(server, "CP-201")
            tx16 = await _running_tx(server, "CP-16")
            # Consent is off by default: the 2.1 car's own needs arrive, and it only charges.
            charging = await _planned(server, site, tx21, lambda s: s["need_source"] == "iso15118")
            assert min(charging["session"]["allocated_kw"]) >= 0
            consent = {"v2g_consent": True, "min_soc_pct": 40, "target_soc_pct": 80}
            for tx in (tx21, tx201, tx16):
                body = consent | (
                    {} if tx == tx21 else {"energy_kwh": 12.0, "departure": departure.isoformat()}
                )
                r = await server.http.put(f"/api/v1/transactions/{tx}/need", json=body)
                assert r.status_code == 200, r.text
                assert r.json()["v2g_consent"] is True

            planned = await _planned(server, site, tx21, lambda s: s["limit_kw"] < 0)
            session, plan = planned["session"], planned["plan"]
            assert session["need_source"] == "v2x"
            assert session["departure"].startswith(departure.isoformat()[:16])
            # The car still reaches its target by departure, in the plan.
            assert _stored_kwh(session["allocated_kw"], plan["slot_minutes"]) >= (
                session["remaining_kwh"] - 0.05
            )
            # The station is told to feed the grid: a 2.1 V2X period with negative values.
            async with asyncio.timeout(20):
                while not any(
                    p.get("operation_mode") == "CentralSetpoint" and p["setpoint"] < 0
                    for profile in _profiles(stations["2.1"])
                    for p in _periods(profile)
                ):
                    await asyncio.sleep(0.05)
            v2x = [p for profile in _profiles(stations["2.1"]) for p in _periods(profile)]
            assert all(p["discharge_limit"] < 0 for p in v2x if "setpoint" in p)
            # Its meter shows the export, stored by the CSMS; the battery stays above the floor.
            async with asyncio.timeout(20):
                while await _exported_wh(server, "CP-21") <= 0:
                    await asyncio.sleep(0.05)
            assert cars["2.1"].discharged_kwh > 0 and cars["2.1"].soc >= 0.4

            # The 1.6 and 2.0.1 stations beside it only ever charge, their consenting drivers
            # and bidirectional cars included.
            for version, tx in (("2.0.1", tx201), ("1.6", tx16)):
                other = [s for s in plan["sessions"] if s["transaction_id"] == tx]
                assert other and min(other[0]["allocated_kw"]) >= 0, version
                told = [p for profile in _profiles(stations[version]) for p in _periods(profile)]
                assert told and all(p["limit"] >= 0 and "setpoint" not in p for p in told)
                assert cars[version].discharged_kwh == 0
                assert await _exported_wh(server, ids[version]) == 0
        finally:
            for st in stations.values():
                await st.stop()
