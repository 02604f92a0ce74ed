"""An operator follows roaming in the console: partners with their handshake, syncs and failing
pushes; the Sessions and CDRs of both roles, a received CDR once it is invoiced."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from evhub.billing import invoices
from evhub.billing.lines import sources
from evhub.roaming import partners, remote
from evhub.roaming.models import Authorization as Decision
from evhub.roaming.models import Delivery, RemoteObject, Session
from evhub.roaming.wire import Role
from evhub.uow import UnitOfWork
from tests.integration.live_server import USER_PASSWORD, run_server
from tests.integration.test_cdrs_api import _cdrs_once_issued
from tests.unit.billing.test_cdrs import T0, charge
from tests.unit.billing.test_invoices import ISSUED, ISSUER, NOVEMBER, SETTINGS
from tests.unit.roaming.test_invoice_lines import CHARGED, _cdr

pytestmark = pytest.mark.browser
CDRS_URL = "https://emsp.example/ocpi/emsp/2.2.1/cdrs"


async def _as_cpo(uow: UnitOfWork, tx_id: int, cdr_id: str) -> None:
    """The charge was a partner eMSP's driver's: its Session, and the CDR's push refused."""
    async with uow() as s:
        await partners.invite(s, "Mobility Co", "NL", "MOB", Role.EMSP, T0)
        emsp = next(p for p in await partners.list_all(s) if p.name == "Mobility Co")
        decision = Decision(partner_id=emsp.id, uid="TOK-CP-1", station_id="CP-1", allowed=True,
                            how="AUTH_REQUEST", realtime="ALLOWED", cdr_token={},
                            decided_at=T0, transaction_id=tx_id)  # fmt: skip
        s.add(decision)
        await s.flush()
        s.add(
            Session(
                transaction_id=tx_id,
                partner_id=emsp.id,
                authorization_id=decision.id,
                status="COMPLETED",
                pushed_wh=10000,
                created_at=T0,
                updated_at=T0,
            )
        )
        s.add(
            Delivery(
                partner_id=emsp.id,
                object_key=f"sessions/{tx_id}",
                method="POST",
                url=CDRS_URL,
                body={"id": cdr_id},
                attempts=3,
                next_attempt_at=ISSUED + timedelta(days=3650),
                last_error="HTTP 503, OCPI 3000: down for maintenance",
                created_at=T0,
            )
        )
    # fmt: skip


async def _as_emsp(uow: UnitOfWork) -> None:
    """A partner CPO sent a Session and two CDRs of our driver's token, one in December."""
    async with uow() as s:
        await partners.invite(s, "Netz", "DE", "CPO", Role.CPO, T0)
        cpo = next(p for p in await partners.list_all(s) if p.name == "Netz")
        session = {"country_code": "DE", "party_id": "CPO", "id": "S-9", "status": "COMPLETED",
                   "location_id": "LOC-1", "evse_uid": "E-1", "kwh": 12.5, "currency": "EUR",
                   "cdr_token": {"uid": "TOK-CP-1"}, "start_date_time": "2026-11-20T17:00:00Z",
                   "total_cost": {"excl_vat": 4.0, "incl_vat": 4.76},
                   "last_updated": "2026-11-20T18:00:00Z"}  # fmt: skip
        await remote.store_object(s, cpo, "sessions", session, T0)
        for cdr in (_cdr("CDR-N", "TOK-CP-1", 4.0),
                    _cdr("CDR-D", "TOK-CP-1", 2.5, CHARGED + timedelta(days=15))):  # fmt: skip
            s.add(RemoteObject(partner_id=cpo.id, module="cdrs", country_code="DE",
                               party_id="CPO", object_id=cdr["id"], data=cdr,
                               last_updated=CHARGED, pulled_at=CHARGED))  # fmt: skip


async def test_operator_follows_partners_sessions_and_cdrs_of_both_roles(
    database_url: str, browser: Any, screenshots: Path
) -> None:
    async with run_server(database_url) as server:
        uow = server.app.state.services.uow
        tx_id = await charge(uow)
        (cdr,) = await _cdrs_once_issued(server, 1)
        await _as_cpo(uow, tx_id, cdr["ocpi_id"])
        await _as_emsp(uow)
        (number,) = await invoices.run_month(uow, ISSUED, ISSUER, NOVEMBER, sources(SETTINGS))
        body = {"name": "ops", "password": USER_PASSWORD, "role": "viewer"}
        assert (await server.http.post("/api/v1/users", json=body)).status_code == 201
        page = await browser.new_page(viewport={"width": 1366, "height": 900})
        page.set_default_timeout(20_000)
        await page.goto(server.base_url + "/login")
        await page.fill("input[name=name]", "ops")
        await page.fill("input[name=password]", USER_PASSWORD)
        await page.click("button[type=submit]")
        await page.click("nav >> text=Roaming")
        await page.wait_for_url(server.base_url + "/roaming")

        emsp = page.locator("#partners tbody tr", has_text="Mobility Co")
        assert await emsp.locator(".status").inner_text() == "invited"
        assert await emsp.locator(".owed").inner_text() == "1"
        assert "down for maintenance" in await emsp.locator(".error").inner_text()
        cpo = page.locator("#partners tbody tr", has_text="Netz")
        assert "sessions: 2026-11-03 09:00" in await cpo.locator(".received").inner_text()
        assert "cdrs: 2026-11-20 18:00" in await cpo.locator(".received").inner_text()
        failing = page.locator("#failing tbody tr")
        assert await failing.count() == 1
        assert CDRS_URL in await failing.inner_text()
        await page.screenshot(path=str(screenshots / "roaming.png"), full_page=True)

        await page.click(".tabs >> text=Sessions")
        await page.wait_for_url(server.base_url + "/roaming/sessions")
        ours = page.locator(f'#cpo-sessions tr[data-session="{tx_id}"]')
        assert "Mobility Co" in await ours.inner_text()
        assert await ours.locator(".kwh").inner_text() == "10.000"
        theirs = page.locator('#emsp-sessions tr[data-session="DE/CPO/S-9"]')
        assert await theirs.locator(".cost").inner_text() == "4.00 EUR"
        await page.screenshot(path=str(screenshots / "roaming_sessions.png"), full_page=True)

        await page.click(".tabs >> text=CDRs")
        await page.wait_for_url(server.base_url + "/roaming/cdrs")
        issued = page.locator(f'#cpo-cdrs tr[data-cdr="{cdr["ocpi_id"]}"]')
        assert "owed 3 attempts" in await issued.locator(".push").inner_text()
        billed = page.locator('#emsp-cdrs tr[data-cdr="DE/CPO/CDR-N"] .invoiced')
        async with uow() as s:
            (invoice,) = [i for i in await s.scalars(invoices.invoices_query())
                          if i.number == number]  # fmt: skip
        assert await billed.inner_text() == f"invoice #{invoice.id}"
        later = page.locator('#emsp-cdrs tr[data-cdr="DE/CPO/CDR-D"] .invoiced')
        assert await later.inner_text() == "not yet"
        await page.screenshot(path=str(screenshots / "roaming_cdrs.png"), full_page=True)
