"""A town's officer reads the month's report in the console and downloads it as CSV."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from evhub.clock import FrozenClock
from tests.integration.live_server import USER_PASSWORD, run_server
from tests.integration.test_reports import month_of_use

pytestmark = pytest.mark.browser

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


async def test_viewer_reads_the_month_and_downloads_the_csv(
    database_url: str, browser: Any, screenshots: Path, tmp_path: Path
) -> None:
    async with run_server(database_url, clock=FrozenClock(NOW)) as server:
        site = await month_of_use(server)
        body = {"name": "mairie", "password": USER_PASSWORD, "role": "viewer"}
        assert (await server.http.post("/api/v1/users", json=body)).status_code == 201
        page = await browser.new_page(viewport={"width": 1366, "height": 900})
        page.set_default_timeout(20_000)
        await page.goto(server.base_url + "/reports")
        await page.wait_for_url("**/login**")
        await page.fill("input[name=name]", "mairie")
        await page.fill("input[name=password]", USER_PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_url(server.base_url + "/reports")
        # The page opens on the month under way, by the server's clock: November 2026.
        assert await page.input_value("input[name=month]") == "2026-11"
        row = page.locator(f'tr[data-site="{site}"]')
        assert await row.locator(".sessions").inner_text() == "3"
        assert await row.locator(".energy").inner_text() == "39.500"
        await page.wait_for_function(
            "document.getElementById('energy-chart').dataset.drawn === '30'"
        )
        assert await page.locator("#energy-chart canvas").count() == 1
        await page.screenshot(path=str(screenshots / "reports.png"), full_page=True)

        async with page.expect_download() as waiting:
            await page.click("#download-csv")
        download = await waiting.value
        saved = tmp_path / download.suggested_filename
        await download.save_as(saved)
        assert saved.name == "evhub-report-2026-11.csv"
        with saved.open(encoding="utf-8") as f:
            rows = {r["scope"]: r for r in csv.DictReader(f)}
        assert rows["site"]["sessions"] == "3" and rows["site"]["energy_kwh"] == "39.500"
        assert rows["network"]["hours_charging"] == "6.00"
