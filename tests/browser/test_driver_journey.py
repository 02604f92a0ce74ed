"""The charge pass end to end, on a phone: a driver signs up in the browser, confirms the
address from the mail (read from a real SMTP server), orders a card, starts a charge on a
simulated station (OCPP 2.0.1 over a socket) from the phone page, follows the live session,
says when they leave, stops it, finds the CDR, then the month's invoice and its PDF, whose
amounts are computed here from the tariff and the energy the station metered."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from evhub.billing.invoice_run import MonthlyInvoiceRun
from evhub.billing.invoices import issuer_of
from evhub.billing.lines import sources
from evhub.clock import FrozenClock
from evhub.settings import Settings
from tests.integration.driver_hub import (
    DRIVER_PASSWORD,
    INVOICER,
    STATION,
    VAT,
    a_car,
    expected_cost,
    priced_hub,
)  # fmt: skip
from tests.integration.live_server import LiveServer, run_server
from tests.mail_catcher import MailCatcher, link_in, smtp_server

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
PARIS = ZoneInfo("Europe/Paris")
CENT = Decimal("0.01")


async def test_a_driver_signs_up_charges_from_the_phone_and_gets_the_invoice(
    database_url: str, browser: Any, screenshots: Path
) -> None:
    with smtp_server() as smtp:
        async with run_server(
            database_url, smtp_host="127.0.0.1", smtp_port=smtp.port, **INVOICER
        ) as server:
            site, station = await priced_hub(server)
            page = await browser.new_page(viewport=PHONE)
            page.set_default_timeout(20_000)
            try:
                await _sign_up(server, smtp, page, screenshots)
                await _order_a_card(server, page)
                await station.plug_in(1, a_car())
                tx_id = await _charge(server, page, site, screenshots)
                cdr = await _the_cdr(server, page, tx_id, screenshots)
                await _the_invoice(server, page, cdr, screenshots)
            finally:
                await station.stop()


async def _sign_up(server: LiveServer, smtp: MailCatcher, page: Any, screenshots: Path) -> None:
    await page.goto(server.base_url + "/account/signup")
    await page.fill("input[name=name]", "Ada")
    await page.fill("input[name=email]", "ada@example.org")
    await page.fill("input[name=password]", DRIVER_PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_selector("text=Check your mail")
    mail = await smtp.next_mail()
    assert mail["To"] == "ada@example.org"
    await page.goto(server.base_url + link_in(mail, "/account/verify"))
    await page.wait_for_selector("text=E-mail address confirmed")
    await page.click("a[href='/account/login']")
    await page.fill("input[name=email]", "ada@example.org")
    await page.fill("input[name=password]", DRIVER_PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(server.base_url + "/account")


async def _order_a_card(server: LiveServer, page: Any) -> None:
    """The card ordered on the page, encoded and posted by the operator."""
    await page.click("text=Order an RFID card")
    await page.wait_for_selector(".card-to-post")
    (card,) = (await server.http.get("/api/v1/cards/to-post")).json()
    posted = await server.http.post(f"/api/v1/cards/{card['id']}/posted", json={"uid": "04C0FFEE"})
    assert posted.status_code == 200, posted.text
    await page.reload()
    assert "Accepted" in await page.locator('li[data-uid="04C0FFEE"]').inner_text()


async def _charge(server: LiveServer, page: Any, site: int, screenshots: Path) -> int:
    await page.click("nav >> text=Charge")
    await page.fill("input[name=lat]", "45.7578")
    await page.fill("input[name=lon]", "4.8320")
    await page.click("text=Hubs near here")
    hub = page.locator(f'li.hub[data-site="{site}"]')
    assert "0.36 EUR/kWh incl. 20 % VAT" in await hub.inner_text()
    await page.screenshot(path=str(screenshots / "account-charge-hubs.png"), full_page=True)

    await hub.locator("a").click()
    await page.wait_for_selector("#evses")
    await page.locator(f'li[data-evse="{STATION}/1"]').locator("text=Start charging").click()
    await page.wait_for_url("**/account/charge/sessions/*")
    tx_id = int(page.url.rsplit("/", 1)[1])
    live = page.locator('#live[data-state="active"] #live-energy:not([data-wh="0"])')
    await live.wait_for()
    panel = page.locator("#live")
    wh = int(await panel.locator("#live-energy").get_attribute("data-wh"))
    so_far = Decimal(await panel.locator("#live-cost").get_attribute("data-incl"))
    assert so_far == expected_cost(wh)[1]

    leave = datetime.now(PARIS).replace(second=0, microsecond=0) + timedelta(hours=4)
    await page.fill("input[name=energy_kwh]", "20")
    await page.fill("input[name=departure]", leave.strftime("%Y-%m-%dT%H:%M"))
    await page.click("#need >> text=Save")
    await page.wait_for_selector(f"#need-said >> text=leaving {leave:%Y-%m-%d %H:%M}")
    await page.screenshot(path=str(screenshots / "account-charge-live.png"), full_page=True)

    await page.click("#stop")
    await page.wait_for_selector("#cdr-link")
    await page.screenshot(path=str(screenshots / "account-charge-ended.png"), full_page=True)
    return tx_id


async def _the_cdr(server: LiveServer, page: Any, tx_id: int, screenshots: Path) -> Any:
    tx = (await server.http.get(f"/api/v1/transactions/{tx_id}")).json()
    assert tx["state"] == "ended" and tx["energy_wh"] > 0
    excl, incl = expected_cost(tx["energy_wh"])
    await page.click("#cdr-link")
    await page.wait_for_selector("#cdr")
    assert Decimal(await page.get_attribute("#cdr-excl", "data-value")) == excl
    assert Decimal(await page.get_attribute("#cdr-incl", "data-value")) == incl
    assert Decimal(await page.get_attribute("#cdr-energy", "data-kwh")) == Decimal(
        tx["energy_wh"]
    ) / Decimal(1000)
    await page.screenshot(path=str(screenshots / "account-cdr.png"), full_page=True)
    cdr_id = int(await page.get_attribute("#cdr", "data-cdr"))
    return (await server.http.get(f"/api/v1/cdrs/{cdr_id}")).json()


async def _the_invoice(server: LiveServer, page: Any, cdr: Any, screenshots: Path) -> None:
    """The month's run, on a clock set to the first morning of the next month (when the
    server's own monthly run would issue it), then the invoice on the phone and its PDF."""
    ended = datetime.fromisoformat(cdr["end_date_time"]).astimezone(PARIS)
    first = date(ended.year + ended.month // 12, ended.month % 12 + 1, 1)
    clock = FrozenClock(datetime.combine(first, time(6), PARIS))
    settings: Settings = server.app.state.settings
    run = MonthlyInvoiceRun(server.app.state.services.uow, clock, issuer_of(settings),
                            sources(settings))  # fmt: skip
    (number,) = await run.run_once()

    await page.click("nav >> text=Charges & invoices")
    invoice = page.locator("#invoices li.invoice").first
    await invoice.wait_for()
    assert number in await invoice.inner_text()
    assert await invoice.get_attribute("data-month") == f"{ended:%Y-%m}"
    excl = Decimal(cdr["total_excl_vat"]).quantize(CENT, ROUND_HALF_UP)
    vat = (excl * VAT / 100).quantize(CENT, ROUND_HALF_UP)
    # The VAT of the invoice is on its amount to the cent: within a cent of the CDR's own.
    assert abs(excl + vat - Decimal(cdr["total_incl_vat"])) < CENT
    assert await invoice.locator(".incl").inner_text() == f"{excl + vat} EUR"
    await page.screenshot(path=str(screenshots / "account-bills.png"), full_page=True)

    href = await invoice.locator("a.pdf").get_attribute("href")
    pdf = await page.request.get(server.base_url + href)
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    pages = PdfReader(io.BytesIO(await pdf.body())).pages
    text = " ".join(" ".join(p.extract_text().split()) for p in pages)
    assert number in text and f"Total incl. VAT (EUR) {excl + vat}" in text
    assert f"Total excl. VAT {excl}" in text and f"Total VAT {vat}" in text
