"""A funding town reads the reports of its own hubs, and nothing else of the network."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

import pytest

from evhub.clock import FrozenClock
from tests.integration.live_server import LiveServer, run_server
from tests.integration.test_reports import NOW, month_of_use


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[LiveServer]:
    async with run_server(database_url, clock=FrozenClock(NOW)) as live:
        await month_of_use(live)  # the sessions and tickets of Anse
        other = await live.add_site(town="Jassans", name="Gare")
        await live.add_station("CP-J1", other, evses=[{"evse_id": 1}])
        yield live


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_a_funders_report_covers_its_towns_only(server: LiveServer) -> None:
    funder = await server.client("funder", towns=["Anse"])
    viewer = await server.client("viewer")
    month = {"month": "2026-11"}
    whole = rows((await viewer.get("/api/v1/reports/monthly", params=month)).text)
    assert {r["town"] for r in whole if r["scope"] == "town"} == {"Anse", "Jassans"}

    r = await funder.get("/api/v1/reports/monthly", params=month)
    assert r.status_code == 200, r.text
    own = rows(r.text)
    assert {r["town"] for r in own if r["scope"] != "network"} == {"Anse"}
    network = next(r for r in own if r["scope"] == "network")
    town = next(r for r in own if r["scope"] == "town")
    for column in ("points", "sessions", "energy_kwh", "uptime_pct"):
        assert network[column] == town[column], column  # the network is Anse's alone
    assert network["points"] == "2"  # Jassans' point is not counted

    r = await funder.get("/api/v1/reports/monthly", params=month | {"town": "jassans"})
    assert r.status_code == 403 and "not among yours: Anse" in r.json()["detail"], r.text
    r = await funder.get("/api/v1/reports/monthly", params=month | {"format": "pdf"})
    assert r.status_code == 200 and r.content.startswith(b"%PDF")


async def test_a_funder_sees_nothing_else_of_the_network(server: LiveServer) -> None:
    funder = await server.client("funder", towns=["Anse"])
    for path in ("/api/v1/stations", "/api/v1/sites", "/api/v1/transactions", "/api/v1/tickets"):
        r = await funder.get(path)
        assert r.status_code == 403 and "viewer" in r.json()["detail"], (path, r.text)
    me = (await funder.get("/api/v1/me")).json()
    assert me["role"] == "funder" and me["towns"] == ["Anse"]


async def test_a_funder_needs_towns_and_only_a_funder_has_them(server: LiveServer) -> None:
    r = await server.http.post("/api/v1/api-keys", json={"name": "town", "role": "funder"})
    assert r.status_code == 422 and "at least one" in r.json()["detail"]
    body = {"name": "tool", "role": "viewer", "towns": ["Anse"]}
    r = await server.http.post("/api/v1/api-keys", json=body)
    assert r.status_code == 422 and "only a funder" in r.json()["detail"]
    body = {"name": "mairie", "password": "long enough", "role": "funder", "towns": ["Anse"]}
    user = (await server.http.post("/api/v1/users", json=body)).json()
    assert user["towns"] == ["Anse"]
    r = await server.http.patch(f"/api/v1/users/{user['id']}", json={"role": "viewer"})
    assert r.status_code == 422  # a viewer sees every town: its towns must go first
    r = await server.http.patch(f"/api/v1/users/{user['id']}", json={"towns": ["Anse", "Jassans"]})
    assert r.status_code == 200 and r.json()["towns"] == ["Anse", "Jassans"]


async def test_the_console_shows_a_funder_its_towns_reports_alone(server: LiveServer) -> None:
    browser, _ = await server.console("funder", towns=["Anse"])
    page = await browser.get("/reports", params={"month": "2026-11"})
    assert page.status_code == 200
    assert "Anse" in page.text and "Jassans" not in page.text
    assert 'href="/tickets"' not in page.text and 'href="/reports"' in page.text
    assert (await browser.get("/")).status_code == 403
    refused = await browser.get("/reports", params={"month": "2026-11", "town": "Jassans"})
    assert "not among yours" in refused.text
