"""An operator reads a site's energy at the console: the coming day's prices, a consenting
OCPP 2.1 car planned to feed the grid in the dear hour, and, once it has left, what its
export earned its driver, as the meter measured it."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from evhub.billing.v2g_credit import fed_back
from evhub.clock import AcceleratedClock
from evhub.sim import SimEV, SimEvse, SimStation
from tests.integration.live_server import PASSWORD, USER_PASSWORD, run_server
from tests.integration.test_v2g_live import (
    START,
    _exported_wh,
    _import_prices,
    _planned,
    _running_tx,
)

pytestmark = pytest.mark.browser


async def test_an_operator_sees_prices_the_discharge_plan_and_what_v2g_earned(
    database_url: str, browser: Any, screenshots: Path
) -> None:
    clock = AcceleratedClock(START, 120.0)
    async with run_server(database_url, clock=clock, plan_interval_s=60.0) as server:
        site = await server.add_site(grid_limit_kw=100.0, name="Quai V2G")
        await server.add_station(
            "CP-21", site, evses=[{"evse_id": 1, "current_type": "DC", "max_power_kw": 50.0}]
        )
        driver = (
            await server.http.post(
                "/api/v1/drivers", json={"name": "Ada", "user_group": "resident"}
            )
        ).json()
        await server.add_token("TAG21", driver_id=driver["id"])
        await _import_prices(server, site)
        body = {"name": "olivia", "password": USER_PASSWORD, "role": "operator"}
        assert (await server.http.post("/api/v1/users", json=body)).status_code == 201
        station = SimStation("CP-21", PASSWORD, "2.1", server.ws_base,
                             [SimEvse(1, dc=True, max_kw=50.0)], clock=clock,
                             meter_interval_s=30.0)  # fmt: skip
        await station.start()
        try:
            car = SimEV(battery_kwh=60.0, soc=0.6, target_soc=0.8, max_dc_kw=50.0, v2g=True,
                        max_discharge_kw=20.0, min_soc=0.3)  # fmt: skip
            await station.plug_in(1, car, "TAG21")
            tx = await _running_tx(server, "CP-21")
            consent = {"v2g_consent": True, "min_soc_pct": 40, "target_soc_pct": 80}
            r = await server.http.put(f"/api/v1/transactions/{tx}/need", json=consent)
            assert r.status_code == 200, r.text
            feeding = await _planned(server, site, tx, lambda s: s["limit_kw"] < 0)

            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(20_000)
            await page.goto(server.base_url + "/energy")
            await page.fill("input[name=name]", "olivia")
            await page.fill("input[name=password]", USER_PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_url(server.base_url + "/energy")
            await page.click(f'[data-site="{site}"] a')
            await page.wait_for_url(server.base_url + f"/energy/{site}")
            prices = await page.locator("#prices tbody tr").all_inner_texts()
            assert len(prices) == 24 and "0.3000" in prices[0] and "0.0400" in prices[-1]
            told = page.locator(f'#plan-sessions tr[data-transaction="{tx}"] .limit')
            assert float(await told.inner_text()) < 0
            feeds = [float(t) for t in await page.locator("#plan-hours .feed").all_inner_texts()]
            assert min(feeds) < 0 and feeding["session"]["need_source"] == "v2x"
            assert "0 kWh fed back" in await page.inner_text("#earned")

            async with asyncio.timeout(20):  # the meter has shown some export
                while await _exported_wh(server, "CP-21") < 500:
                    await asyncio.sleep(0.05)
            await station.stop_transaction(1)
            async with server.app.state.services.uow() as s:
                (fed,) = await fed_back(s, clock.now() + timedelta(minutes=1))
            await page.reload()
            row = page.locator(f'#earned-charges tr[data-transaction="{tx}"]')
            assert Decimal(await row.locator(".kwh").inner_text()) == fed.energy_kwh > 0
            credit = (fed.energy_kwh * Decimal("0.12")).quantize(Decimal("0.01"))
            assert await page.inner_text("#earned-total") == f"{credit} EUR"
            await page.screenshot(path=str(screenshots / "energy-site.png"), full_page=True)
        finally:
            await station.stop()
