"""A driver chooses vehicle-to-grid on a phone: the floor above the target is refused with its
reason, then consent, floor and target are saved; the car plugged in afterwards on an OCPP 2.1
station is planned to feed the grid in the dear hour, and taking consent back on the page makes
the running charge charge-only again."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from evhub.clock import AcceleratedClock
from evhub.prices import service as prices
from evhub.prices.points import PricePoint
from evhub.sim import SimEV, SimEvse, SimStation
from tests.integration.live_server import PASSWORD, LiveServer, run_server
from tests.mail_catcher import link_in, smtp_server

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
START = datetime(2026, 11, 23, 9, tzinfo=UTC)
DRIVER_PASSWORD = "correct horse battery"
ORDER = {
    "reference": "DEALER-V2G-1",
    "plan": "resident-night",
    "buyer": {"name": "Ada", "email": "ada@example.org"},
    "vehicle": {"model_id": 4, "vin": "5YJ3E1EA7KF000003"},
}


async def _planned(
    server: LiveServer, site: int, check: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    async with asyncio.timeout(20):
        while True:
            plan = (await server.http.get(f"/api/v1/sites/{site}/plan")).json()
            if plan["sessions"] and check(plan["sessions"][0]):
                return dict(plan["sessions"][0])
            await asyncio.sleep(0.05)


async def _prices(server: LiveServer, site: int) -> None:
    points = [
        PricePoint(START + timedelta(hours=h), Decimal(300) if h == 0 else Decimal(40))
        for h in range(-1, 24)
    ]
    async with server.app.state.services.uow() as s:
        await prices.import_prices(s, START, points, site_id=site)


async def test_a_driver_consents_on_the_page_and_the_21_car_feeds_the_dear_hour(
    database_url: str, browser: Any, screenshots: Path
) -> None:
    clock = AcceleratedClock(START, 60.0)
    with smtp_server() as smtp:
        async with run_server(
            database_url, clock=clock, plan_interval_s=60.0, smtp_host="127.0.0.1",
            smtp_port=smtp.port,
        ) as server:  # fmt: skip
            site = await server.add_site(grid_limit_kw=100.0)
            dc = [{"evse_id": 1, "current_type": "DC", "max_power_kw": 50.0}]
            await server.add_station("CP-21", site, evses=dc)
            await _prices(server, site)
            order = (await server.http.post("/api/v1/orders", json=ORDER)).json()
            token = parse_qs(urlsplit(link_in(await smtp.next_mail(), "/account/password")).query)
            r = await server.http.post(
                "/api/v1/accounts/password",
                json={"token": token["token"][0], "password": DRIVER_PASSWORD},
            )
            assert r.status_code == 200, r.text

            page = await browser.new_page(viewport=PHONE)
            page.set_default_timeout(20_000)
            await page.goto(server.base_url + "/account/login")
            await page.fill("input[name=email]", "ada@example.org")
            await page.fill("input[name=password]", DRIVER_PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_url(server.base_url + "/account")
            await page.click(".account-nav >> text=Vehicle-to-grid")
            await page.wait_for_selector("text=No charge running.")

            await page.check("#consent")
            await page.fill("#min-soc", "90")
            await page.fill("#target-soc", "80")
            await page.click("#v2g-settings button[type=submit]")
            await page.wait_for_selector("[role=alert] >> text=floor cannot be above the target")
            await page.check("#consent")
            await page.fill("#min-soc", "40")
            await page.fill("#target-soc", "80 %")
            await page.click("#v2g-settings button[type=submit]")
            await page.wait_for_selector("[role=status] >> text=Saved.")
            assert await page.is_checked("#consent")
            assert await page.input_value("#min-soc") == "40"

            station = SimStation("CP-21", PASSWORD, "2.1", server.ws_base,
                                 [SimEvse(1, dc=True, max_kw=50.0)], clock=clock,
                                 meter_interval_s=30.0)  # fmt: skip
            await station.start()
            try:
                car = SimEV(battery_kwh=60.0, soc=0.6, target_soc=0.8, max_dc_kw=50.0, v2g=True,
                            max_discharge_kw=20.0, min_soc=0.3,
                            departure=START + timedelta(hours=6))  # fmt: skip
                await station.plug_in(1, car, order["app_token_uid"])
                # The standing choice reached the new charge: it feeds the grid while dear.
                feeding = await _planned(server, site, lambda s: s["limit_kw"] < 0)
                assert feeding["need_source"] == "v2x"
                await page.reload()
                await page.wait_for_selector("li.charge >> text=feeds the grid when it pays")
                await page.screenshot(path=str(screenshots / "account-v2g.png"), full_page=True)

                await page.uncheck("#consent")
                async with page.expect_navigation():
                    await page.click("#v2g-settings button[type=submit]")
                await page.wait_for_selector("[role=status] >> text=Saved.")
                await page.wait_for_selector("li.charge >> text=charge only (no consent)")
                charging = await _planned(server, site, lambda s: s["need_source"] != "v2x")
                assert min(charging["allocated_kw"]) >= 0
            finally:
                await station.stop()
