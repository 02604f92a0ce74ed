"""The operator console over HTTP: signing in and out, the pages with a hub in them, the
operations and the CSV export (the browser tests drive the same pages with a real browser)."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from datetime import UTC, datetime

import httpx

from tests.integration.live_server import USER_PASSWORD, LiveServer, login
from tests.integration.ocpp_client import RawStation, answer_until, connect

BOOT = {"chargePointVendor": "evhub-test", "chargePointModel": "T1"}


def _now() -> str:
    return datetime.now(UTC).isoformat()


async def _boot(st: RawStation, *available: int) -> None:
    assert (await st.result("BootNotification", BOOT))["status"] == "Accepted"
    for connector in available:
        status = {"connectorId": connector, "errorCode": "NoError", "status": "Available"}
        await st.result("StatusNotification", status | {"timestamp": _now()})


async def test_sign_in_takes_the_user_back_to_the_page_asked_for(server: LiveServer) -> None:
    browser, _ = await server.console("viewer")
    await browser.post("/logout", data={"csrf": await _csrf(browser)})
    r = await browser.get("/tickets")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/tickets"
    r = await browser.post("/api/v1/users", json={})  # not signed in any more
    assert r.status_code == 401


async def test_wrong_password_and_forged_forms_are_refused(server: LiveServer) -> None:
    await server.http.post(
        "/api/v1/users", json={"name": "ann", "password": USER_PASSWORD, "role": "admin"}
    )
    anonymous = await server.client(None)
    form = await anonymous.get("/login")
    csrf = _field(form.text)
    r = await anonymous.post("/login", data={"csrf": csrf, "name": "ann", "password": "nope"})
    assert r.status_code == 401 and "wrong password" in r.text
    forged = {"csrf": "forged", "name": "ann", "password": USER_PASSWORD}
    r = await anonymous.post("/login", data=forged)
    assert r.status_code == 400 and "expired" in r.text
    csrf = _field(r.text)  # the refused form comes back with a new session
    r = await anonymous.post(
        "/login",
        data={"csrf": csrf, "name": "ann", "password": USER_PASSWORD, "next": "//evil.example"},
    )
    assert r.status_code == 303 and r.headers["location"] == "/"
    other = await server.client(None)
    assert await login(other, "ann", USER_PASSWORD)


async def test_pages_show_the_hub(server: LiveServer) -> None:
    site = await server.add_site(latitude=45.99, longitude=4.72, town="Villefranche")
    await server.add_station("CP-C1", site, evses=[{"evse_id": 1}, {"evse_id": 2}])
    browser, _ = await server.console("operator")
    async with connect(server.ws_base, "CP-C1", "ocpp1.6") as station:
        await _boot(station, 1, 2)
        overview = await browser.get("/")
        assert "Test hub" in overview.text and "<svg" in overview.text
        page = await browser.get(f"/sites/{site}")
        assert page.status_code == 200 and "CP-C1" in page.text and "Available" in page.text
        power = (await browser.get(f"/sites/{site}/power")).json()
        assert power["grid_limit_kw"] == 250.0 and len(power["t"]) == len(power["measured_kw"])
        page = await browser.get("/stations/CP-C1")
        assert page.status_code == 200 and "Hard reset" in page.text
        for path in ("/transactions", "/reservations", "/tickets", "/tickets?state=all"):
            assert (await browser.get(path)).status_code == 200, path


async def test_viewers_see_no_operation_buttons(server: LiveServer) -> None:
    site = await server.add_site()
    await server.add_station("CP-V", site)
    browser, csrf = await server.console("viewer")
    page = await browser.get("/stations/CP-V")
    assert page.status_code == 200 and "Hard reset" not in page.text
    r = await browser.post("/stations/CP-V/actions/reset", data={"csrf": csrf, "hard": "0"})
    assert r.status_code == 403


async def test_reset_button_reaches_the_station(server: LiveServer) -> None:
    site = await server.add_site()
    await server.add_station("CP-R1", site)
    browser, csrf = await server.console("operator")
    async with connect(server.ws_base, "CP-R1", "ocpp1.6") as station:
        await _boot(station)
        answer = asyncio.create_task(
            browser.post("/stations/CP-R1/actions/reset", data={"csrf": csrf, "hard": "1"},
                         headers={"HX-Request": "true"})
        )  # fmt: skip
        frame = await answer_until(station, "Reset", {"status": "Accepted"})
        assert frame[3] == {"type": "Hard"}
        r = await answer
        assert r.status_code == 200 and "reset: Accepted" in r.text


async def test_transactions_export_as_csv(server: LiveServer) -> None:
    site = await server.add_site()
    await server.add_station("CP-T", site)
    await server.add_token("TAG-CSV")
    browser, _ = await server.console("viewer")
    async with connect(server.ws_base, "CP-T", "ocpp1.6") as station:
        await _boot(station, 1)
        start = {"connectorId": 1, "idTag": "TAG-CSV", "meterStart": 1000, "timestamp": _now()}
        started = await station.result("StartTransaction", start)
        assert started["idTagInfo"]["status"] == "Accepted"
    r = await browser.get("/transactions.csv", params={"site_id": site, "state": "active"})
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["id_token"] for row in rows] == ["TAG-CSV"]
    page = await browser.get("/transactions", params={"station_id": "CP-T"})
    assert "TAG-CSV" in page.text


async def _csrf(browser: httpx.AsyncClient) -> str:
    return _field((await browser.get("/")).text)


def _field(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)
