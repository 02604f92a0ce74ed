"""The fleet map in the console, with no tile server: a marker per hub and per car, each car in
its state's colour as the legend says, and a car returned by a trip at its new place once the
map refreshes."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from evhub.carsharing.state import VehicleState
from tests.integration.carsharing_hub import HUB, RIFTER, ZOE, CarHub, car_hub, fresh_clock
from tests.integration.live_server import USER_PASSWORD
from tests.integration.reservations_hub import NOW

pytestmark = pytest.mark.browser

H = timedelta(hours=1)
BAY = (HUB[0] + 0.002, HUB[1])  # about 220 m north of the hub, within the radius of a return
GARE = (48.8443, 2.3744)  # a second hub, 2 km away


async def _fleet(hub: CarHub) -> dict[str, int]:
    """Four cars at two hubs: one in a trip, one in maintenance, one damaged, one free and
    booked for later."""
    gare = await hub.server.add_site(name="Gare", latitude=GARE[0], longitude=GARE[1])
    zoe = (await hub.add_vehicle(ZOE))["id"]
    rifter = (await hub.add_vehicle(RIFTER))["id"]
    spare = (await hub.add_vehicle(ZOE | {"plate": "GE-789-ZO"}))["id"]
    dented = (await hub.add_vehicle(ZOE | {"plate": "GE-000-ZO"}, home_site_id=gare))["id"]
    for vehicle_id, state in ((rifter, "maintenance"), (dented, "damaged")):
        r = await hub.server.http.patch(
            f"/api/v1/fleet/vehicles/{vehicle_id}", json={"state": state}
        )
        assert r.status_code == 200, r.text
    ada, bo = await hub.add_member("ada"), await hub.add_member("bo")
    later = (await hub.book(bo, spare, NOW + 5 * H, starts_at=NOW + 3 * H)).json()
    booking = (await hub.book(ada, zoe, NOW + H)).json()
    assert (await hub.report(booking["id"])).status_code == 201
    hub.clock.current = NOW + timedelta(minutes=1)
    r = await hub.operator.post(f"/api/v1/carsharing/bookings/{booking['id']}/start")
    assert r.status_code == 200, r.text
    return {"gare": gare, "zoe": zoe, "rifter": rifter, "spare": spare, "dented": dented,
            "booking": booking["id"], "later": later["id"]}  # fmt: skip


async def _centre(page: Any, selector: str) -> tuple[float, float]:
    box = await page.locator(selector).bounding_box()
    assert box is not None, selector
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


async def _refreshed(page: Any, times: int) -> None:
    """Wait until the map has drawn the positions `times` times."""
    await page.wait_for_function(
        f"Number(document.getElementById('fleet-map-section').dataset.refreshed) >= {times}"
    )


async def test_the_fleet_map_shows_hubs_and_cars_by_state_and_follows_a_trip(
    database_url: str, browser: Any, screenshots: Path
) -> None:
    async with car_hub(database_url, fresh_clock()) as hub:
        cars = await _fleet(hub)
        body = {"name": "ops", "password": USER_PASSWORD, "role": "viewer"}
        assert (await hub.server.http.post("/api/v1/users", json=body)).status_code == 201
        page = await browser.new_page(viewport={"width": 1366, "height": 900})
        page.set_default_timeout(20_000)
        failed: list[str] = []
        page.on("requestfailed", lambda request: failed.append(request.url))
        page.on("pageerror", lambda error: failed.append(str(error)))
        asked: list[str] = []  # the map must work with no network beyond the server
        page.on("request", lambda request: asked.append(request.url))
        await page.goto(hub.server.base_url + "/fleet")
        await page.fill("input[name=name]", "ops")
        await page.fill("input[name=password]", USER_PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_url(hub.server.base_url + "/fleet")
        await _refreshed(page, 1)

        hubs = page.locator("#fleet-map .hub-marker")
        assert sorted([await h.get_attribute("data-site") for h in await hubs.all()]) == sorted(
            [str(hub.site_id), str(cars["gare"])]
        )
        assert await page.locator("#fleet-map .leaflet-tile").count() == 0  # no tile server
        expected = {
            cars["zoe"]: "in_trip", cars["rifter"]: "maintenance",
            cars["spare"]: "available", cars["dented"]: "damaged",
        }  # fmt: skip
        markers = page.locator("#fleet-map .car-marker")
        shown = {int(await m.get_attribute("data-vehicle")): m for m in await markers.all()}
        assert {v: await m.get_attribute("data-state") for v, m in shown.items()} == expected
        legend = page.locator("#fleet-map-legend li")
        states = [await li.get_attribute("data-state") for li in await legend.all()]
        assert states == ["hub", *[str(s) for s in VehicleState]]
        colour = "el => getComputedStyle(el).backgroundColor"
        swatches = {
            s: await page.locator(f'#fleet-map-legend li[data-state="{s}"] .swatch').evaluate(
                colour
            )
            for s in states
        }
        assert len(set(swatches.values())) == len(swatches)  # one colour per state
        for vehicle_id, marker in shown.items():
            assert await marker.evaluate(colour) == swatches[expected[vehicle_id]]

        row = page.locator(f'#fleet-map-list tr[data-vehicle="{cars["zoe"]}"]')
        assert await row.locator(".state").inner_text() == "in trip"
        assert await row.locator(".level").inner_text() == "100 %"
        assert await row.locator(".range").inner_text() == "300 km"
        spare = page.locator(f'#fleet-map-list tr[data-vehicle="{cars["spare"]}"]')
        assert await spare.locator(".seen").inner_text() == "at its hub, not read yet"
        starts = (NOW + 3 * H).astimezone(ZoneInfo("Europe/Paris")).strftime("%a %d, %H:%M")
        assert await spare.locator(".next").inner_text() == f"#{cars['later']} {starts}"
        await page.locator(f'.car-marker[data-vehicle="{cars["zoe"]}"]').click()
        popup = page.locator(".leaflet-popup-content")
        assert "GE-123-ZO" in await popup.inner_text() and "in trip" in await popup.inner_text()
        await page.screenshot(path=str(screenshots / "fleet-map.png"), full_page=False)
        await page.click(".leaflet-popup-close-button")

        # The trip ends at a bay of the hub, 30 km later: the map shows it there once refreshed.
        zoe = f'#fleet-map .car-marker[data-vehicle="{cars["zoe"]}"]'
        hub_marker = f'#fleet-map .hub-marker[data-site="{hub.site_id}"]'
        before = await _centre(page, zoe)
        (await hub.car(cars["zoe"])).drive(30.0, to=BAY)
        hub.clock.current = NOW + H
        r = await hub.operator.post(f"/api/v1/carsharing/bookings/{cars['booking']}/end")
        assert r.status_code == 200, r.text
        await page.click("#fleet-map-refresh")
        await _refreshed(page, 2)
        moved = page.locator(zoe)
        assert await moved.get_attribute("data-state") == "available"
        assert await moved.evaluate(colour) == swatches["available"]
        lat, lon = await moved.get_attribute("data-lat"), await moved.get_attribute("data-lon")
        assert (float(lat or "nan"), float(lon or "nan")) == BAY
        after, centre = await _centre(page, zoe), await _centre(page, hub_marker)
        assert after != before
        assert after[1] < centre[1] - 10 and abs(after[0] - centre[0]) < 1  # due north of it
        assert await row.locator(".level").inner_text() == "90 %"
        assert (await row.locator(".seen").inner_text()).startswith("read ")
        await page.screenshot(path=str(screenshots / "fleet-map-after-trip.png"), full_page=False)
        assert failed == []
        assert [url for url in asked if not url.startswith(hub.server.base_url + "/")] == []
        assert sum(url.endswith("/api/v1/fleet/positions") for url in asked) == 2
