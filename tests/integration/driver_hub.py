"""A priced hub with a simulated station, and drivers signed up through the real mail, for the
tests of driver charging (HTTP and browser)."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

import httpx

from evhub.sim import SimEV, SimEvse, SimStation
from tests.integration.live_server import PASSWORD, LiveServer
from tests.mail_catcher import MailCatcher, link_in

DRIVER_PASSWORD = "correct horse battery"
STATION = "SIM-HUB-1"
# A charge costs a fixed 1.00 and 0.30 a kWh, both with 20 % VAT (OCPI 2.2.1 §11.4.2).
FLAT, PER_KWH, VAT = Decimal("1.00"), Decimal("0.30"), Decimal("20")
TARIFF = {
    "currency": "EUR",
    "elements": [
        {
            "price_components": [
                {"type": "FLAT", "price": str(FLAT), "vat": str(VAT), "step_size": 1},
                {"type": "ENERGY", "price": str(PER_KWH), "vat": str(VAT), "step_size": 1},
            ]
        }
    ],
}
INVOICER = {
    "invoice_company_name": "Hubs de Lyon SAS",
    "invoice_company_siren": "732 829 320",
    "invoice_company_vat_number": "FR44732829320",
    "invoice_company_address": "9 quai Rambaud",
    "invoice_company_postcode": "69002",
    "invoice_company_city": "Lyon",
}
PLACES = Decimal("0.0001")


def expected_cost(energy_wh: int) -> tuple[Decimal, Decimal]:
    """(excl. VAT, incl. VAT) of a charge of `energy_wh` under TARIFF, as OCPI 2.2.1 prices it:
    each dimension's cost rounded (to 4 places here) before they are summed."""
    kwh = Decimal(energy_wh) / 1000
    rate = 1 + VAT / 100
    energy = (kwh * PER_KWH).quantize(PLACES, ROUND_HALF_UP)
    energy_incl = (kwh * PER_KWH * rate).quantize(PLACES, ROUND_HALF_UP)
    return FLAT + energy, (FLAT * rate).quantize(PLACES) + energy_incl


async def priced_hub(server: LiveServer, meter_interval_s: float = 0.5) -> tuple[int, SimStation]:
    """A site at Lyon with TARIFF as its public tariff and one 2.0.1 station, connected."""
    tariff = await server.http.post("/api/v1/tariffs", json=TARIFF)
    assert tariff.status_code == 201, tariff.text
    site = await server.add_site(name="Quai Rambaud", latitude=45.7405, longitude=4.8176,
                                 address="9 quai Rambaud", town="Lyon")  # fmt: skip
    body = {"tariff_id": tariff.json()["id"]}
    patched = await server.http.patch(f"/api/v1/sites/{site}", json=body)
    assert patched.status_code == 200, patched.text
    await server.add_station(STATION, site, evses=[{"evse_id": 1, "max_power_kw": 22}])
    station = SimStation(STATION, PASSWORD, "2.0.1", server.ws_base, [SimEvse(1, max_kw=22.0)],
                         meter_interval_s=meter_interval_s)  # fmt: skip
    await station.start()
    return site, station


def a_car() -> SimEV:
    return SimEV(battery_kwh=52.0, soc=0.3, max_ac_kw=22.0)


async def signed_up(
    server: LiveServer, smtp: MailCatcher, email: str, name: str = "Ada"
) -> httpx.AsyncClient:
    """A driver signed up, verified from the mail, signed in: a client with its bearer token."""
    anonymous = await server.client(None)
    body = {"name": name, "email": email, "password": DRIVER_PASSWORD}
    assert (await anonymous.post("/api/v1/accounts/signup", json=body)).status_code == 201
    mail = await smtp.next_mail()
    token = link_in(mail, "/account/verify").split("token=", 1)[1]
    assert (await anonymous.post("/api/v1/accounts/verify", json={"token": token})).is_success
    login = {"email": email, "password": DRIVER_PASSWORD}
    r = await anonymous.post("/api/v1/accounts/login", json=login)
    assert r.status_code == 200, r.text
    driver = await server.client(None)
    driver.headers["Authorization"] = f"Bearer {r.json()['token']}"
    return driver


def csrf_in(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, html
    return found.group(1)


def data_of(html: str, element_id: str, attribute: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*\b{attribute}="([^"]*)"', html)
    assert found is not None, html
    return found.group(1)
