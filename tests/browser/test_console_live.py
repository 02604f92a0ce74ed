"""An operator at the console, in a real browser, while simulated stations charge cars."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from evhub.sim import SimEV, SimEvse, SimStation
from tests.integration.live_server import PASSWORD, USER_PASSWORD, LiveServer, run_server

pytestmark = pytest.mark.browser

TIMEOUT_MS = 20_000


async def _hub(server: LiveServer) -> tuple[int, SimStation]:
    site = await server.add_site(grid_limit_kw=60.0, latitude=45.99, longitude=4.72,
                                 town="Villefranche", name="Gare P2")  # fmt: skip
    other = await server.add_site(latitude=45.76, longitude=4.84, town="Lyon", name="Part-Dieu")
    await server.add_station("CP-B1", site, evses=[{"evse_id": 1}, {"evse_id": 2}])
    await server.add_station("CP-B2", other, evses=[{"evse_id": 1}])
    await server.add_token("TAG-B")
    body = {"name": "olivia", "password": USER_PASSWORD, "role": "operator"}
    assert (await server.http.post("/api/v1/users", json=body)).status_code == 201
    station = SimStation("CP-B1", PASSWORD, "1.6", server.ws_base,
                         [SimEvse(1, max_kw=22.0), SimEvse(2, max_kw=22.0)],
                         meter_interval_s=1.0)  # fmt: skip
    await station.start()
    return site, station


async def _sign_in(page: Any, base: str, path: str, screenshots: Path) -> None:
    await page.goto(base + path)
    await page.wait_for_url("**/login**")
    await page.screenshot(path=str(screenshots / "login.png"))
    await page.fill("input[name=name]", "olivia")
    await page.fill("input[name=password]", USER_PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(base + path)


async def test_operator_watches_a_charge_and_stops_it(
    database_url: str, browser: Any, screenshots: Path
) -> None:
    async with run_server(database_url) as server:
        site, station = await _hub(server)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(TIMEOUT_MS)
            await _sign_in(page, server.base_url, f"/sites/{site}", screenshots)
            point = page.locator('[data-point="CP-B1/1"] .state')
            await point.wait_for()
            assert await point.inner_text() == "Available"
            await page.wait_for_function("document.body.dataset.live === 'on'")
            assert await _chart_points(page) == 0

            await station.plug_in(1, SimEV(battery_kwh=60, soc=0.3, max_ac_kw=22.0), "TAG-B")
            await page.wait_for_function(
                "document.querySelector('[data-point=\"CP-B1/1\"] .state').textContent"
                " === 'Charging'"
            )  # live: the page was not reloaded
            await page.wait_for_function(
                "Number(document.getElementById('power-chart').dataset.points) > 0"
            )
            await page.screenshot(path=str(screenshots / "site.png"), full_page=True)

            await page.click('[data-point="CP-B1/1"]')
            await page.wait_for_url("**/stations/CP-B1")
            page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
            await page.click("tr[data-transaction] button:has-text('Stop')")
            await page.wait_for_function(
                "document.getElementById('op-result').textContent.includes('stop: Accepted')"
            )
            await page.locator("tr[data-transaction]").wait_for(state="detached")
            await page.screenshot(path=str(screenshots / "station.png"), full_page=True)
            txs = (await server.http.get("/api/v1/transactions")).json()
            assert [t["state"] for t in txs] == ["ended"]
            assert txs[0]["stop_reason"] == "Remote"
        finally:
            await station.stop()


async def test_the_overview_reads_on_a_phone(
    database_url: str, browser: Any, screenshots: Path
) -> None:
    async with run_server(database_url) as server:
        _, station = await _hub(server)
        try:
            page = await browser.new_page(viewport={"width": 390, "height": 844})
            page.set_default_timeout(TIMEOUT_MS)
            await _sign_in(page, server.base_url, "/", screenshots)
            await page.locator(".card.site").first.wait_for()
            assert await page.locator(".card.site").count() == 2
            assert await page.locator(".map circle").count() == 2
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, "the overview scrolls sideways on a phone"
            await page.screenshot(path=str(screenshots / "overview-phone.png"), full_page=True)
        finally:
            await station.stop()


async def _chart_points(page: Any) -> int:
    await page.wait_for_function("document.getElementById('power-chart').dataset.points")
    return int(await page.evaluate("document.getElementById('power-chart').dataset.points"))
