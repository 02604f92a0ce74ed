"""An operator sets at the console whether a hub's shared cars may feed the grid between
bookings, and their floor; the API then reports it, a floor out of range is refused in place
and changes nothing, and a viewer sees the setting without the form."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.live_server import USER_PASSWORD, run_server

pytestmark = pytest.mark.browser


async def _signed_in(browser: Any, base_url: str, name: str) -> Any:
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(20_000)
    await page.goto(base_url + "/login")
    await page.fill("input[name=name]", name)
    await page.fill("input[name=password]", USER_PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(base_url + "/")
    return page


async def test_an_operator_sets_the_fleet_v2g_of_a_hub_and_a_viewer_reads_it(
    database_url: str, browser: Any
) -> None:
    async with run_server(database_url) as server:
        site = await server.add_site(name="Gare V2G")
        for name, role in (("olivia", "operator"), ("victor", "viewer")):
            body = {"name": name, "password": USER_PASSWORD, "role": role}
            assert (await server.http.post("/api/v1/users", json=body)).status_code == 201

        page = await _signed_in(browser, server.base_url, "olivia")
        await page.goto(server.base_url + f"/energy/{site}")
        section = page.locator("#fleet-v2g")
        assert "Consent: no" in await section.inner_text()
        assert await section.locator(".default-floor").count() == 1
        await section.locator("input[name=consent]").check()
        await section.locator("input[name=min_soc_pct]").fill("40")
        await section.locator("button[type=submit]").click()
        await page.wait_for_selector("#fleet-v2g-result .ok")
        assert "Consent: yes" in await page.inner_text("#fleet-v2g-setting")
        assert await page.locator("#fleet-v2g .default-floor").count() == 0
        want = {"site_id": site, "consent": True, "min_soc_pct": 40.0, "default_floor": False}
        assert (await server.http.get(f"/api/v1/carsharing/hubs/{site}/v2g")).json() == want

        await page.locator("#fleet-v2g input[name=min_soc_pct]").fill("150")
        await page.locator("#fleet-v2g button[type=submit]").click()
        error = page.locator("#fleet-v2g-result .error")
        await error.wait_for()
        assert "between 0 and 100" in await error.inner_text()
        assert "40 %" in await page.inner_text("#fleet-v2g-setting")
        assert (await server.http.get(f"/api/v1/carsharing/hubs/{site}/v2g")).json() == want

        viewer = await _signed_in(browser, server.base_url, "victor")
        await viewer.goto(server.base_url + f"/energy/{site}")
        text = await viewer.inner_text("#fleet-v2g-setting")
        assert "Consent: yes" in text and "40 %" in text
        assert await viewer.locator("#fleet-v2g form").count() == 0


async def test_without_js_the_form_redirects_back_or_shows_the_page_with_the_reason(
    database_url: str,
) -> None:
    async with run_server(database_url) as server:
        site = await server.add_site()
        client, csrf = await server.console("operator")
        url = f"/energy/{site}/fleet-v2g"
        r = await client.post(url, data={"csrf": csrf, "consent": "on", "min_soc_pct": ""})
        assert r.status_code == 303 and r.headers["location"] == f"/energy/{site}"
        r = await client.post(url, data={"csrf": csrf, "min_soc_pct": "150"})
        assert r.status_code == 422 and "between 0 and 100" in r.text and "Energy" in r.text
        hub = (await server.http.get(f"/api/v1/carsharing/hubs/{site}/v2g")).json()
        assert hub["consent"] is True and hub["default_floor"] is True
        r = await client.post("/energy/999999/fleet-v2g", data={"csrf": csrf, "consent": "on"})
        assert r.status_code == 404
