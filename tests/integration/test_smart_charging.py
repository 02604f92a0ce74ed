"""Smart charging live: simulated stations of both versions under a tight site limit.

Checked from the stations' side: the limits they apply never sum above the site's limit, and
every car whose need was feasible leaves with it met.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from evhub.clock import AcceleratedClock
from evhub.sim import SimEV, SimEvse, SimStation
from tests.integration.live_server import PASSWORD, LiveServer, run_server

SITE_LIMIT_KW = 30.0
SPEED = 240.0  # four simulated minutes per second


async def _station(
    server: LiveServer, clock: AcceleratedClock, sid: str, version: str
) -> SimStation:
    st = SimStation(sid, PASSWORD, version, server.ws_base,  # type: ignore[arg-type]
                    [SimEvse(1, max_kw=22.0), SimEvse(2, max_kw=22.0)], clock=clock,
                    meter_interval_s=30.0)  # fmt: skip
    await st.start()
    return st


async def _transaction_id(server: LiveServer, station_id: str, evse_id: int) -> int:
    for _ in range(100):
        txs = (
            await server.http.get("/api/v1/transactions", params={"station_id": station_id})
        ).json()
        running = [t for t in txs if t["evse_id"] == evse_id and t["state"] == "active"]
        if running:
            return int(running[0]["id"])
        await asyncio.sleep(0.05)
    raise AssertionError(f"no transaction on {station_id}/{evse_id}")


async def test_limits_never_exceed_site_and_needs_are_met(database_url: str) -> None:
    clock = AcceleratedClock(datetime(2026, 11, 23, 9, tzinfo=UTC), SPEED)
    async with run_server(database_url, clock=clock, plan_interval_s=60.0) as server:
        site = await server.add_site(grid_limit_kw=SITE_LIMIT_KW)
        for sid in ("CP-16", "CP-201"):
            await server.add_station(sid, site, evses=[{"evse_id": 1}, {"evse_id": 2}])
        for n in range(4):
            await server.add_token(f"TAG{n}")
        stations = [
            await _station(server, clock, "CP-16", "1.6"),
            await _station(server, clock, "CP-201", "2.0.1"),
        ]
        cars = [  # (station, evse, need kWh, stay minutes)
            (stations[0], 1, 3.0, 20), (stations[0], 2, 3.0, 30),
            (stations[1], 1, 4.0, 40), (stations[1], 2, 4.0, 40),
        ]  # fmt: skip
        # A station that just connected applies its rating until the planner's TxDefault
        # allowance reaches it: the site is watched from then on, as a commissioned site is.
        async with asyncio.timeout(10):
            while any(st.current_limit_kw(e) >= 22.0 for st in stations for e in (1, 2)):
                await asyncio.sleep(0.02)
        peak = 0.0
        watching = True

        async def watch() -> None:
            nonlocal peak
            while watching:
                total = sum(st.current_limit_kw(e) for st in stations for e in (1, 2))
                peak = max(peak, total)
                await asyncio.sleep(0.02)

        watcher = asyncio.create_task(watch())
        try:
            departures = []
            for n, (st, evse, need, stay) in enumerate(cars):
                await st.plug_in(evse, SimEV(battery_kwh=60, soc=0.3, max_ac_kw=22.0), f"TAG{n}")
                tx = await _transaction_id(server, st.station_id, evse)
                departure = clock.now() + timedelta(minutes=stay)
                r = await server.http.put(
                    f"/api/v1/transactions/{tx}/need",
                    json={"energy_kwh": need, "departure": departure.isoformat()},
                )
                assert r.status_code == 200, r.text
                departures.append((departure, st, evse, tx, need))
            for _ in range(100):  # the planner re-plans on each declaration, asynchronously
                plan = (await server.http.get(f"/api/v1/sites/{site}/plan")).json()
                if [s["need_source"] for s in plan["sessions"]] == ["driver"] * 4:
                    break
                await asyncio.sleep(0.02)
            assert [s["need_source"] for s in plan["sessions"]] == ["driver"] * 4
            assert sum(s["limit_kw"] for s in plan["sessions"]) <= SITE_LIMIT_KW + 1e-6
            for departure, st, evse, tx, need in sorted(departures, key=lambda d: d[0]):
                await asyncio.sleep(max(0.0, (departure - clock.now()).total_seconds() / SPEED))
                await st.unplug(evse)
                record = (await server.http.get(f"/api/v1/transactions/{tx}")).json()
                assert record["energy_wh"] >= 0.97 * need * 1000, (record, need)
        finally:
            watching = False
            await watcher
            for st in stations:
                await st.stop()
        assert 0 < peak <= SITE_LIMIT_KW + 0.05
