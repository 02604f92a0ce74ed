"""A driver signs up on a phone, confirms the address from the mail (read from a real SMTP
server), signs in, adds a car, reads the app token's contract id and blocks a card."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from evhub.accounts import contract_ids
from tests.integration.live_server import run_server
from tests.mail_catcher import link_in, smtp_server

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
PASSWORD = "correct horse battery"


async def test_a_driver_signs_up_verifies_adds_a_car_and_blocks_a_card(
    database_url: str, browser: Any, screenshots: Path
) -> None:
    with smtp_server() as smtp:
        async with run_server(database_url, smtp_host="127.0.0.1", smtp_port=smtp.port) as server:
            page = await browser.new_page(viewport=PHONE)
            page.set_default_timeout(20_000)
            await page.goto(server.base_url + "/account/signup")
            await page.fill("input[name=name]", "Ada")
            await page.fill("input[name=email]", "ada@example.org")
            await page.fill("input[name=password]", PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_selector("text=Check your mail")
            await page.screenshot(path=str(screenshots / "account-signup.png"))

            mail = await smtp.next_mail()
            assert mail["To"] == "ada@example.org"
            await page.goto(server.base_url + link_in(mail, "/account/verify"))
            await page.wait_for_selector("text=E-mail address confirmed")
            await page.click("a[href='/account/login']")
            await page.fill("input[name=email]", "ada@example.org")
            await page.fill("input[name=password]", PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_url(server.base_url + "/account")

            await page.select_option("select[name=model_id]", label="Renault Zoe R135 (52 kWh)")
            await page.fill("input[name=plate]", "AB-123-CD")
            await page.click("text=Add vehicle")
            await page.wait_for_selector("li.vehicle >> text=Renault Zoe R135")
            contract = contract_ids.parse(await page.inner_text("#contract-id"))
            app_token = page.locator(f'li[data-uid="{contract.compact}"]')
            assert "Accepted" in await app_token.inner_text()

            # A card ordered on the page, encoded and posted by the operator, then lost.
            await page.click("text=Order an RFID card")
            await page.wait_for_selector(".card-to-post")
            cards = (await server.http.get("/api/v1/cards/to-post")).json()
            assert len(cards) == 1
            r = await server.http.post(
                f"/api/v1/cards/{cards[0]['id']}/posted", json={"uid": "04A1B2C3D4"}
            )
            assert r.status_code == 200, r.text
            await page.reload()
            card = page.locator('li[data-uid="04A1B2C3D4"]')
            await card.locator("button", has_text="Block").click()
            await page.wait_for_selector('li[data-uid="04A1B2C3D4"] .status-Blocked')
            await page.screenshot(path=str(screenshots / "account-home.png"), full_page=True)

            seen = await server.http.get("/api/v1/tokens/04A1B2C3D4/authorization")
            assert seen.json()["status"] == "Blocked"
            still = await server.http.get(f"/api/v1/tokens/{contract.compact}/authorization")
            assert still.json()["status"] == "Accepted"
