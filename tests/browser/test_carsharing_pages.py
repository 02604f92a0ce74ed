"""Shared cars in the browser: on a phone a driver puts a licence on file, finds a car at the
hub, books it, is told to report its condition first, reports it with a photo, unlocks the car,
drives, comes back late and sees what the trip costs, then reports a damage; in the console an
operator sees the fleet's states, the bookings, the trip and its fees, the damage with its
photo, and each car's charge against its next booking, and charges the damage's franchise."""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest

from evhub.accounts import selfservice
from evhub.carsharing import readiness
from evhub.carsharing.models import FleetVehicle
from evhub.carsharing.policy import CarsharingPolicy
from evhub.web.console import VENDOR_DIR
from tests.integration.carsharing_hub import PNG, ZOE, CarHub, car_hub, fresh_clock
from tests.integration.live_server import USER_PASSWORD
from tests.integration.reservations_hub import NOW

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DRIVER_PASSWORD = "correct horse battery"
CENT = Decimal("0.01")
NEXT_KM = 250.0


async def _driver_account(hub: CarHub, name: str, email: str) -> int:
    """A driver who signed up and confirmed the address."""
    app = hub.server.app
    async with app.state.services.uow() as session:
        driver = await selfservice.sign_up(
            session, app.state.account_config, name, email, DRIVER_PASSWORD, NOW
        )
        driver.email_verified_at = NOW
        return driver.id


def _late_fee(policy: CarsharingPolicy, minutes_late: int) -> Decimal:
    rule = policy.late_fee
    return min(rule.base + rule.per_minute * minutes_late, rule.cap).quantize(CENT, ROUND_HALF_UP)


async def test_a_driver_books_drives_and_reports_and_the_operator_sees_the_fleet(
    database_url: str, browser: Any, screenshots: Path
) -> None:
    async with car_hub(database_url, fresh_clock()) as hub:
        policy: CarsharingPolicy = hub.server.app.state.carsharing_policy
        await hub.server.add_station(
            "CP-HUB", hub.site_id, evses=[{"evse_id": 1, "current_type": "DC", "max_power_kw": 50}]
        )
        zoe = await hub.add_vehicle(ZOE)
        await _driver_account(hub, "Ada", "ada@example.org")
        page = await browser.new_page(viewport=PHONE)
        page.set_default_timeout(20_000)
        await page.goto(hub.server.base_url + "/account/login")
        await page.fill("input[name=email]", "ada@example.org")
        await page.fill("input[name=password]", DRIVER_PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_url(hub.server.base_url + "/account")

        # The licence, then a car of the hub for an hour from now, 40 km.
        await page.click("nav >> text=Shared cars")
        await page.fill("input[name=number]", "12AB34567")
        await page.fill("input[name=expires_on]", "2031-05-01")
        await page.click("text=Save licence")
        await page.wait_for_selector("#licence-on-file >> text=12AB34567")
        await page.fill("input[name=hours]", "1")
        await page.click("button:has-text('Search')")
        car = page.locator(f'li.car[data-vehicle="{zoe["id"]}"]')
        assert "GE-123-ZO" in await car.inner_text()
        await car.locator("input[name=planned_km]").fill("40")
        await page.screenshot(path=str(screenshots / "account-cars.png"), full_page=True)
        await car.locator("button", has_text="Book").click()
        await page.wait_for_url("**/account/cars/bookings/*")
        assert await page.inner_text("#booking-state") == "booked"

        # No start before the report; a report with a photo; the car unlocks.
        await page.click("#start-trip")
        await page.wait_for_selector("[role=alert] >> text=report")
        await page.select_option("select[name=cleanliness]", "4")
        await page.fill("input[name=note]", "clean inside")
        await page.set_input_files(
            "input[name=photos]", files=[{"name": "front.png", "mimeType": "image/png",
                                          "buffer": PNG}]
        )  # fmt: skip
        await page.click("text=Send the report")
        await page.wait_for_selector('li.report[data-phase="before"]')
        await page.screenshot(path=str(screenshots / "account-car-booking.png"), full_page=True)
        hub.clock.current = NOW + timedelta(minutes=1)
        await page.click("#start-trip")
        await page.wait_for_selector("#booking-state >> text=in trip")
        unit = await hub.car(zoe["id"])
        assert not unit.doors_locked

        # Forty kilometres, back 25 minutes after the booking's end.
        unit.drive(40.0)
        hub.clock.current = NOW + timedelta(hours=1, minutes=25)
        await page.click("#end-trip")
        await page.wait_for_selector("#booking-state >> text=completed")
        assert unit.doors_locked
        assert await page.inner_text("#trip-distance") == "40.0 km"
        late = page.locator('li.charge[data-kind="late_return"] .amount')
        assert await late.inner_text() == f"{_late_fee(policy, 25)} {policy.late_fee.currency}"
        distance = page.locator('li.charge[data-kind="distance"] .amount')
        assert await distance.inner_text() == f"{policy.price_per_km * 40:.2f} EUR"

        # A damage seen at the return, with its photo.
        await page.select_option("select[name=damage]", "minor")
        await page.fill("input[name=note]", "scratch on the rear door")
        await page.set_input_files(
            "input[name=photos]", files=[{"name": "door.png", "mimeType": "image/png",
                                          "buffer": PNG + b"door"}]
        )  # fmt: skip
        await page.click("text=Send the report")
        await page.wait_for_selector('li.report[data-phase="after"] >> text=minor')
        await page.screenshot(path=str(screenshots / "account-car-trip.png"), full_page=True)

        # Someone else books the car for tomorrow, 250 km: more than it holds now.
        bo = await hub.add_member("bo")
        tomorrow = NOW + timedelta(hours=24)
        body = {
            "driver_id": bo,
            "vehicle_id": zoe["id"],
            "starts_at": tomorrow.isoformat(),
            "ends_at": (tomorrow + 8 * timedelta(hours=1)).isoformat(),
            "planned_km": NEXT_KM,
        }
        r = await hub.operator.post("/api/v1/carsharing/bookings", json=body)
        assert r.status_code == 201 and r.json()["vehicle_id"] == zoe["id"], r.text
        await _console(hub, browser, screenshots, zoe["id"], policy)


async def _console(
    hub: CarHub, browser: Any, screenshots: Path, zoe_id: int, policy: CarsharingPolicy
) -> None:
    body = {"name": "ops", "password": USER_PASSWORD, "role": "operator"}
    assert (await hub.server.http.post("/api/v1/users", json=body)).status_code == 201
    page = await browser.new_page(viewport={"width": 1366, "height": 900})
    page.set_default_timeout(20_000)
    await page.goto(hub.server.base_url + "/fleet")
    await page.wait_for_url("**/login**")
    await page.fill("input[name=name]", "ops")
    await page.fill("input[name=password]", USER_PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(hub.server.base_url + "/fleet")
    assert "Fleet" in await page.inner_text("nav [aria-current]")

    row = page.locator(f'#fleet-cars tr[data-vehicle="{zoe_id}"]')
    assert await row.locator(".state").inner_text() == "available"
    async with hub.server.app.state.services.uow() as session:
        vehicle = await session.get(FleetVehicle, zoe_id)
        assert vehicle is not None
        need = readiness.energy_for_km(vehicle, NEXT_KM, policy.energy_margin)
    held = ZOE["battery_kwh"] * (1 - 40 / ZOE["range_km"])
    assert held < need  # it charges at the hub (50 kW) until tomorrow: in time
    assert await row.locator(".need").inner_text() == f"{need:.1f} kWh"
    assert await row.locator(".held").inner_text() == f"{held:.1f} kWh"
    assert await row.locator(".charge").inner_text() == "in time"

    trips = page.locator("#fleet-trips tbody tr")
    assert await trips.count() == 1
    assert "late return, 25 min" in await trips.first.locator(".fees").inner_text()
    minutes = math.ceil((timedelta(hours=1, minutes=24)).total_seconds() / 60)
    total = (
        (policy.price_per_hour * minutes / 60).quantize(CENT, ROUND_HALF_UP)
        + policy.price_per_km * 40
        + _late_fee(policy, 25)
    )
    assert await trips.first.locator(".total").inner_text() == f"{total:.2f} EUR"
    assert await page.locator("#fleet-bookings tbody tr[data-booking]").count() == 1

    damage = page.locator("#fleet-damages tbody tr").first
    assert await damage.locator(".damage").inner_text() == "minor"
    href = await damage.locator("a.photo").get_attribute("href")
    assert href is not None
    photo = await page.request.get(hub.server.base_url + href)
    assert photo.status == 200 and photo.headers["content-type"] == "image/png"
    assert await photo.body() == PNG + b"door"

    # The operator charges the damage's franchise on the returned trip.
    report_id = await damage.get_attribute("data-report")
    form = page.locator("#fleet-fees form")
    await form.locator("select[name=kind]").select_option("damage_franchise")
    await form.locator("input[name=amount]").fill("120.00")
    await form.locator("select[name=report_id]").select_option(str(report_id))
    await form.locator("input[name=reason]").fill("scratch on the rear door")
    await form.locator("button[type=submit]").click()
    if (VENDOR_DIR / "htmx.min.js").exists():  # answered in place, else the page comes back
        await page.wait_for_selector("#fee-result >> text=Charged 120.00 EUR")
        await page.reload()
    fees = page.locator("#fleet-trips tbody tr").first.locator(".fees")
    assert f"damage franchise (report {report_id})" in await fees.inner_text()
    assert await trips.first.locator(".total").inner_text() == f"{total + 120:.2f} EUR"
    await page.screenshot(path=str(screenshots / "fleet.png"), full_page=True)
