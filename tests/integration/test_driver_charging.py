"""A driver charges from the phone pages against the real server, a simulated 2.0.1 station
over a socket and a real SMTP server: the hub and its price, a remote start with the app
token, the live session priced by the engine, the need, the stop, the CDR and the invoice;
and what the driver is told when the station refuses or is offline. A driver reaches only
their own sessions and documents."""

from __future__ import annotations

import asyncio
import io
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from pypdf import PdfReader

from evhub.billing import invoices
from evhub.billing.lines import sources
from evhub.events import Event
from evhub.settings import Settings
from evhub.sim import SimStation
from tests.committed_events import EventTail
from tests.integration.driver_hub import (
    INVOICER,
    STATION,
    VAT,
    a_car,
    csrf_in,
    data_of,
    expected_cost,
    priced_hub,
    signed_up,
)
from tests.integration.live_server import LiveServer, run_server
from tests.integration.test_cdrs_api import _cdrs_once_issued
from tests.mail_catcher import smtp_server

PARIS = ZoneInfo("Europe/Paris")
CENT = Decimal("0.01")


def invoice_amounts(cdr_excl: Decimal, vat_pct: Decimal) -> tuple[Decimal, Decimal]:
    """An invoice line of a CDR: its amount excl. VAT to the cent, and the VAT on that."""
    cents = Decimal("0.01")
    excl = cdr_excl.quantize(cents, ROUND_HALF_UP)
    return excl, (excl * vat_pct / 100).quantize(cents, ROUND_HALF_UP)


async def _next(tail: EventTail, kind: str, **match: Any) -> Event:
    async with asyncio.timeout(20):
        while True:
            event = await tail.next(kind)
            if all(event.data.get(k) == v for k, v in match.items()):
                return event


async def _start(
    driver: httpx.AsyncClient, site: int, evse: int = 1, station_id: str = STATION
) -> httpx.Response:
    hub = await driver.get(f"/account/charge/hubs/{site}")
    assert hub.status_code == 200, hub.text
    fields = {"csrf": csrf_in(hub.text), "site_id": str(site), "station_id": station_id,
              "evse_id": str(evse)}  # fmt: skip
    return await driver.post("/account/charge/start", data=fields)


async def test_a_driver_charges_from_the_phone_and_finds_the_cdr_and_the_invoice(
    database_url: str,
) -> None:
    with smtp_server() as smtp:
        async with run_server(
            database_url, smtp_host="127.0.0.1", smtp_port=smtp.port, **INVOICER
        ) as server:
            ada = await signed_up(server, smtp, "ada@example.org")
            bo = await signed_up(server, smtp, "bo@example.org", "Bo")
            await _charge_from_the_phone(server, ada, bo)


async def _charge_from_the_phone(
    server: LiveServer, driver: httpx.AsyncClient, other: httpx.AsyncClient
) -> None:
    site, station = await priced_hub(server)
    try:
        hubs = await driver.get("/account/charge", params={"lat": "45.75", "lon": "4.85"})
        assert hubs.status_code == 200 and "Quai Rambaud" in hubs.text
        assert "1.20 EUR per charge incl. 20 % VAT" in hubs.text
        assert "0.36 EUR/kWh incl. 20 % VAT" in hubs.text and " km<" in hubs.text

        tail = await EventTail.open(server.app.state.services.events)
        assert await station.plug_in(1, a_car()) is None  # no token: the car waits
        started = await _start(driver, site)
        assert started.status_code == 303 and started.headers["location"] == "/account/charge/live"
        tx_id = (await _next(tail, "transaction.started", station_id=STATION)).data[
            "transaction_id"
        ]
        live = await driver.get("/account/charge/live")
        assert live.headers["location"] == f"/account/charge/sessions/{tx_id}"

        await station.sample()  # a TransactionEvent Updated, answered once stored
        page = await driver.get(f"/account/charge/sessions/{tx_id}")
        assert page.status_code == 200 and "Charging" in page.text
        wh = int(data_of(page.text, "live-energy", "data-wh"))
        assert Decimal(data_of(page.text, "live-cost", "data-incl")) == expected_cost(wh)[1]
        await _declare_need(driver, tx_id, csrf_in(page.text))
        await _not_theirs(other, tx_id, csrf_in((await other.get("/account")).text))

        stopped = await driver.post(
            f"/account/charge/sessions/{tx_id}/stop", data={"csrf": csrf_in(page.text)}
        )
        assert stopped.status_code == 303, stopped.text
        await _next(tail, "transaction.ended", transaction_id=tx_id)
        (cdr,) = await _cdrs_once_issued(server, 1)
        await _billed(server, driver, other, tx_id, cdr)
    finally:
        await station.stop()


async def _declare_need(driver: httpx.AsyncClient, tx_id: int, csrf: str) -> None:
    leave = datetime.now(PARIS).replace(second=0, microsecond=0) + timedelta(hours=3)
    url = f"/account/charge/sessions/{tx_id}/need"
    fields = {"csrf": csrf, "energy_kwh": "20"}
    said = await driver.post(url, data=fields | {"departure": leave.strftime("%Y-%m-%dT%H:%M")})
    assert said.status_code == 303, said.text
    page = await driver.get(f"/account/charge/sessions/{tx_id}")
    assert "Declared: 20.0 kWh, leaving " + leave.strftime("%Y-%m-%d %H:%M") in page.text
    past = leave - timedelta(days=1)
    refused = await driver.post(url, data=fields | {"departure": past.strftime("%Y-%m-%dT%H:%M")})
    assert refused.status_code == 422 and "departure must be in the future" in refused.text
    nonsense = await driver.post(url, data={"csrf": csrf, "energy_kwh": "lots"})
    assert nonsense.status_code == 422 and "number of kWh" in nonsense.text
    forged = await driver.post(url, data={"csrf": "forged", "energy_kwh": "20"})
    assert forged.status_code == 403


async def _not_theirs(other: httpx.AsyncClient, tx_id: int, csrf: str) -> None:
    """Another driver learns nothing of the session and cannot stop it or change its need."""
    assert (await other.get(f"/account/charge/sessions/{tx_id}")).status_code == 404
    assert (await other.get(f"/account/charge/sessions/{tx_id}/panel")).status_code == 404
    stop = await other.post(f"/account/charge/sessions/{tx_id}/stop", data={"csrf": csrf})
    assert stop.status_code == 404
    need = await other.post(f"/account/charge/sessions/{tx_id}/need",
                            data={"csrf": csrf, "energy_kwh": "5"})  # fmt: skip
    assert need.status_code == 404
    history = (await other.get("/account/charge/history")).text
    assert f'data-session="{tx_id}"' not in history and "No charge yet" in history


async def _billed(
    server: LiveServer,
    driver: httpx.AsyncClient,
    other: httpx.AsyncClient,
    tx_id: int,
    cdr: dict[str, Any],
) -> None:
    tx = (await server.http.get(f"/api/v1/transactions/{tx_id}")).json()
    excl, incl = expected_cost(tx["energy_wh"])
    assert (Decimal(cdr["total_excl_vat"]), Decimal(cdr["total_incl_vat"])) == (excl, incl)
    assert Decimal(cdr["total_energy_kwh"]) == Decimal(tx["energy_wh"]) / 1000
    page = await driver.get(f"/account/charge/sessions/{tx_id}")
    assert f'href="/account/cdrs/{cdr["id"]}"' in page.text and "Charge ended" in page.text
    assert data_of(page.text, "live", "data-state") == "ended" and "hx-trigger" not in page.text
    history = await driver.get("/account/charge/history")
    assert (
        f'data-session="{tx_id}"' in history.text and f"{incl.quantize(CENT)} EUR" in history.text
    )
    bills = await driver.get("/account/bills")
    assert f'data-cdr="{cdr["id"]}"' in bills.text and "No invoice yet" in bills.text
    mine = await driver.get(f"/account/cdrs/{cdr['id']}")
    assert Decimal(data_of(mine.text, "cdr-incl", "data-value")) == incl
    assert (await other.get(f"/account/cdrs/{cdr['id']}")).status_code == 404

    settings: Settings = server.app.state.settings
    ended = datetime.fromisoformat(cdr["end_date_time"]).astimezone(PARIS)
    month = invoices.Month(ended.year, ended.month)
    services = server.app.state.services
    issuer = invoices.issuer_of(settings)
    now = services.clock.now()
    issued = await invoices.run_month(services.uow, now, issuer, month, sources(settings))
    assert len(issued) == 1
    bills = await driver.get("/account/bills")
    invoice = (await server.http.get("/api/v1/invoices", params={"month": str(month)})).json()[0]
    assert invoice["number"] == issued[0] and f'data-invoice="{invoice["id"]}"' in bills.text
    excl_cents, vat_cents = invoice_amounts(excl, VAT)
    assert (Decimal(invoice["total_excl_vat"]), Decimal(invoice["total_vat"])) == (
        excl_cents, vat_cents,
    )  # fmt: skip
    pdf = await driver.get(f"/account/invoices/{invoice['id']}.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert issued[0] in text and f"{excl_cents + vat_cents}" in text
    assert (await other.get(f"/account/invoices/{invoice['id']}.pdf")).status_code == 404
    assert (await other.get("/account/invoices/2147483648.pdf")).status_code == 404


async def test_the_driver_is_told_when_the_station_refuses_or_is_offline(
    database_url: str,
) -> None:
    with smtp_server() as smtp:
        async with run_server(database_url, smtp_host="127.0.0.1", smtp_port=smtp.port) as server:
            driver = await signed_up(server, smtp, "ada@example.org")
            site, station = await priced_hub(server)
            try:
                await _refusals(server, driver, site, station)
            finally:
                await station.stop()


async def _refusals(
    server: LiveServer, driver: httpx.AsyncClient, site: int, station: SimStation
) -> None:
    station.evse(1).operative = False  # the station refuses; its last status still says free
    refused = await _start(driver, site)
    assert refused.status_code == 409
    assert f"station {STATION} refused to start the charge (Rejected)" in refused.text
    station.evse(1).operative = True

    await server.add_station("SIM-HUB-2", site, evses=[{"evse_id": 1}])  # never connected
    offline = await _start(driver, site, station_id="SIM-HUB-2")
    assert offline.status_code == 409 and "SIM-HUB-2 is offline" in offline.text
    unknown = await _start(driver, site, evse=7)
    assert unknown.status_code == 404 and "charge point 7" in unknown.text

    tokens = (await driver.get("/api/v1/me/tokens")).json()
    uid = tokens[0]["uid"]
    home = await driver.get("/account")
    blocked = await driver.post(f"/account/tokens/{uid}/status",
                                data={"csrf": csrf_in(home.text), "status": "Blocked"})  # fmt: skip
    assert blocked.status_code == 303
    no_token = await _start(driver, site)
    assert no_token.status_code == 409 and "app token is blocked" in no_token.text
    forged = await driver.post("/account/charge/start", data={"csrf": "x", "site_id": str(site),
                               "station_id": STATION, "evse_id": "1"})  # fmt: skip
    assert forged.status_code == 403


async def test_an_app_charges_through_the_driver_api(database_url: str) -> None:
    with smtp_server() as smtp:
        async with run_server(
            database_url, smtp_host="127.0.0.1", smtp_port=smtp.port, **INVOICER
        ) as server:
            ada = await signed_up(server, smtp, "ada@example.org")
            bo = await signed_up(server, smtp, "bo@example.org", "Bo")
            site, station = await priced_hub(server)
            try:
                await _charge_from_the_app(server, ada, bo, site, station)
            finally:
                await station.stop()


async def _charge_from_the_app(
    server: LiveServer,
    app: httpx.AsyncClient,
    other: httpx.AsyncClient,
    site: int,
    station: SimStation,
) -> None:
    (hub,) = (await app.get("/api/v1/me/hubs", params={"lat": 45.75, "lon": 4.85})).json()
    assert hub["site_id"] == site and 0 < hub["distance_km"] < 5 and hub["tariff_id"]
    assert "0.36 EUR/kWh incl. 20 % VAT" in hub["price"][0]
    assert (await app.get("/api/v1/me/hubs", params={"lat": 91})).status_code == 422
    bad = await app.post("/api/v1/me/charges", json={"station_id": STATION, "evse_id": 0})
    assert bad.status_code == 422

    tail = await EventTail.open(server.app.state.services.events)
    await station.plug_in(1, a_car())
    started = await app.post("/api/v1/me/charges", json={"station_id": STATION, "evse_id": 1})
    assert started.status_code == 202, started.text
    tx_id = (await _next(tail, "transaction.started", station_id=STATION)).data["transaction_id"]
    busy = await app.post("/api/v1/me/charges", json={"station_id": STATION, "evse_id": 1})
    assert busy.status_code == 409 and "in use" in busy.json()["detail"]
    (running,) = (await app.get("/api/v1/me/sessions", params={"active": True})).json()
    assert running["id"] == tx_id and running["state"] == "active"

    await station.sample()
    live = (await app.get(f"/api/v1/me/sessions/{tx_id}")).json()
    assert Decimal(live["cost"]["incl_vat"]) == expected_cost(live["energy_wh"])[1]
    leave = datetime.now(PARIS) + timedelta(hours=2)
    need = await app.put(f"/api/v1/me/sessions/{tx_id}/need",
                         json={"energy_kwh": 15, "departure": leave.isoformat()})  # fmt: skip
    assert need.status_code == 200 and need.json()["source"] == "driver", need.text
    past = {"departure": (leave - timedelta(days=1)).isoformat()}
    assert (await app.put(f"/api/v1/me/sessions/{tx_id}/need", json=past)).status_code == 422
    naive = {"departure": leave.replace(tzinfo=None).isoformat()}
    assert (await app.put(f"/api/v1/me/sessions/{tx_id}/need", json=naive)).status_code == 422
    for method, path in [("GET", ""), ("POST", "/stop"), ("PUT", "/need")]:
        r = await other.request(
            method, f"/api/v1/me/sessions/{tx_id}{path}", json={"energy_kwh": 1}
        )
        assert r.status_code == 404, (method, path, r.text)

    assert (await app.post(f"/api/v1/me/sessions/{tx_id}/stop")).status_code == 202
    await _next(tail, "transaction.ended", transaction_id=tx_id)
    (cdr,) = await _cdrs_once_issued(server, 1)
    (mine,) = (await app.get("/api/v1/me/cdrs")).json()
    assert mine["id"] == cdr["id"] and (await other.get("/api/v1/me/cdrs")).json() == []
    assert (await other.get(f"/api/v1/me/cdrs/{cdr['id']}")).status_code == 404
    ended = (await app.get(f"/api/v1/me/sessions/{tx_id}")).json()
    assert ended["cdr_id"] == cdr["id"] and ended["cost"]["incl_vat"] == cdr["total_incl_vat"]
    again = await app.post(f"/api/v1/me/sessions/{tx_id}/stop")
    assert again.status_code == 409 and "ended already" in again.json()["detail"]

    settings: Settings = server.app.state.settings
    month = datetime.fromisoformat(cdr["end_date_time"]).astimezone(PARIS)
    issuer = invoices.issuer_of(settings)
    services = server.app.state.services
    chosen = invoices.Month(month.year, month.month)
    await invoices.run_month(services.uow, services.clock.now(), issuer, chosen, sources(settings))
    (invoice,) = (await app.get("/api/v1/me/invoices")).json()
    detail = (await app.get(f"/api/v1/me/invoices/{invoice['id']}")).json()
    assert [line["source_ref"] for line in detail["lines"]] == [f"cdr:{cdr['id']}"]
    pdf = await app.get(f"/api/v1/me/invoices/{invoice['id']}.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    for path in (
        f"/api/v1/me/invoices/{invoice['id']}",
        f"/api/v1/me/invoices/{invoice['id']}.pdf",
    ):
        assert (await other.get(path)).status_code == 404
    anonymous = await server.client(None)
    assert (await anonymous.get("/api/v1/me/invoices")).status_code == 401
