"""An operator reads the tariffs, the charge records, the invoices (and opens a PDF) and the
payments in the console."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from evhub.billing import invoices
from evhub.billing.lines import sources
from evhub.billing.models import CdrRecord, TariffRecord
from evhub.payments.models import Payment
from tests.integration.live_server import USER_PASSWORD, run_server
from tests.integration.test_cdrs_api import _cdrs_once_issued
from tests.unit.billing.test_cdrs import charge
from tests.unit.billing.test_invoices import ISSUED, ISSUER, NOVEMBER, SETTINGS

pytestmark = pytest.mark.browser


async def test_operator_reads_charges_and_invoices(
    database_url: str, browser: Any, screenshots: Path
) -> None:
    async with run_server(database_url) as server:
        uow = server.app.state.services.uow
        await charge(uow)
        (cdr,) = await _cdrs_once_issued(server, 1)
        await invoices.run_month(uow, ISSUED, ISSUER, NOVEMBER, sources(SETTINGS))
        body = {"name": "ops", "password": USER_PASSWORD, "role": "operator"}
        assert (await server.http.post("/api/v1/users", json=body)).status_code == 201
        page = await browser.new_page(viewport={"width": 1366, "height": 900})
        page.set_default_timeout(20_000)
        await page.goto(server.base_url + "/cdrs")
        await page.wait_for_url("**/login**")
        await page.fill("input[name=name]", "ops")
        await page.fill("input[name=password]", USER_PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_url(server.base_url + "/cdrs")
        row = page.locator(f'tr[data-cdr="{cdr["id"]}"]')
        assert await row.locator(".incl").inner_text() == "4.20 EUR"
        await page.screenshot(path=str(screenshots / "cdrs.png"), full_page=True)

        await page.click("nav >> text=Invoices")
        await page.wait_for_url(server.base_url + "/invoices")
        invoice = page.locator("#invoices tbody tr").first
        assert "EVH-2026-000001" in await invoice.inner_text()
        assert await invoice.locator(".incl").inner_text() == "4.20 EUR"
        href = await invoice.locator("a.pdf").get_attribute("href")
        assert href is not None
        pdf = await page.request.get(server.base_url + href)
        assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
        assert (await pdf.body()).startswith(b"%PDF")
        await page.screenshot(path=str(screenshots / "invoices.png"), full_page=True)

        async with uow() as s:
            cdr_row = (await s.scalars(select(CdrRecord))).one()
            tariff_id = (await s.scalars(select(TariffRecord.id))).one()
            assert cdr_row.driver_id is not None
            s.add(Payment(driver_id=cdr_row.driver_id, method="card", status="captured",
                          currency="EUR", authorised_amount=Decimal("30.00"),
                          captured_amount=cdr_row.total_incl_vat,
                          transaction_id=cdr_row.transaction_pk,
                          created_at=ISSUED, updated_at=ISSUED))  # fmt: skip
        await page.click("nav >> text=Tariffs")
        await page.wait_for_url(server.base_url + "/tariffs")
        tariff = page.locator(f'section[data-tariff="{tariff_id}"]')
        kinds = await tariff.locator("td.kind").all_inner_texts()
        assert kinds and set(kinds) <= {"ENERGY", "FLAT", "TIME", "PARKING_TIME"}, kinds
        await page.screenshot(path=str(screenshots / "tariffs.png"), full_page=True)

        await page.click("nav >> text=Payments")
        await page.wait_for_url(server.base_url + "/payments")
        payment = page.locator("#payments tbody tr").first
        assert await payment.locator(".status").inner_text() == "captured"
        assert await payment.locator(".captured").inner_text() == "4.20 EUR"
        await page.screenshot(path=str(screenshots / "payments.png"), full_page=True)
