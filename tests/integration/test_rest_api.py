"""REST contracts and bad input: 4xx with a reason, nothing half-written."""

from __future__ import annotations

import pytest

from tests.integration.live_server import LiveServer


async def test_site_station_token_contracts(server: LiveServer) -> None:
    r = await server.http.post(
        "/api/v1/sites", json={"name": "Mall", "timezone": "Europe/Paris", "grid_limit_kw": 250}
    )
    assert r.status_code == 201 and isinstance(r.json()["id"], int)
    site = r.json()["id"]
    r = await server.http.post(
        "/api/v1/stations", json={"id": "CP-9", "site_id": site, "password": "a-very-long-password"}
    )
    assert r.status_code == 201 and r.json()["password"] is None
    r = await server.http.post("/api/v1/stations", json={"id": "CP-10", "site_id": site})
    assert r.status_code == 201 and 16 <= len(r.json()["password"]) <= 40
    station = (await server.http.get("/api/v1/stations/CP-9")).json()
    assert station["online"] is False and station["registration_status"] == "Unknown"
    r = await server.http.post("/api/v1/drivers", json={"name": "Ana", "user_group": "resident"})
    driver = r.json()["id"]
    r = await server.http.post(
        "/api/v1/tokens",
        json={"uid": "04A1B2", "type": "ISO14443", "driver_id": driver, "status": "Accepted"},
    )
    assert r.status_code == 201 and r.json()["driver_id"] == driver
    assert (
        await server.http.get("/api/v1/transactions", params={"station_id": "CP-9"})
    ).json() == []
    assert (await server.http.get("/openapi.json")).json()["info"]["title"] == "evhub"


@pytest.mark.parametrize(
    ("path", "body", "status", "reason"),
    [
        (
            "/api/v1/sites",
            {"name": "X", "timezone": "Mars/Olympus", "grid_limit_kw": 10},
            422,
            "time zone",
        ),
        (
            "/api/v1/sites",
            {"name": "X", "timezone": "Europe/Paris", "grid_limit_kw": -5},
            422,
            "greater than 0",
        ),
        ("/api/v1/sites", {"timezone": "Europe/Paris"}, 422, "name"),
        (
            "/api/v1/stations",
            {"id": "CP-1", "site_id": 999, "password": "a-very-long-password"},
            404,
            "site 999",
        ),
        ("/api/v1/stations", {"id": "CP-1", "site_id": 1, "password": "short"}, 422, "16-40"),
        ("/api/v1/stations", {"id": "bad id/with slash", "site_id": 1}, 422, "pattern"),
        ("/api/v1/tokens", {"uid": "T1", "status": "Maybe"}, 422, "Accepted"),
        ("/api/v1/tokens", {"uid": "T1", "driver_id": 77}, 404, "driver 77"),
    ],
)
async def test_bad_input_gets_4xx_with_reason(
    server: LiveServer, path: str, body: dict[str, object], status: int, reason: str
) -> None:
    await server.add_site()
    r = await server.http.post(path, json=body)
    assert r.status_code == status, r.text
    assert reason in r.text


async def test_duplicates_conflict(server: LiveServer) -> None:
    site = await server.add_site()
    await server.add_station("CP-1", site)
    r = await server.http.post(
        "/api/v1/stations", json={"id": "CP-1", "site_id": site, "password": "a-very-long-password"}
    )
    assert r.status_code == 409 and "exists" in r.json()["detail"]
    await server.add_token("T1")
    assert (await server.http.post("/api/v1/tokens", json={"uid": "T1"})).status_code == 409
    assert len((await server.http.get("/api/v1/tokens")).json()) == 1


async def test_unknown_resources_are_404(server: LiveServer) -> None:
    assert (await server.http.get("/api/v1/stations/NOPE")).status_code == 404
    assert (await server.http.get("/api/v1/transactions/123")).status_code == 404
    assert (await server.http.get("/api/v1/sites/5")).status_code == 404


async def test_status_page_lists_stations(server: LiveServer) -> None:
    site = await server.add_site()
    await server.add_station("CP-PAGE", site, evses=[{"evse_id": 1}])
    anonymous = await server.client(None)
    r = await anonymous.get("/")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    browser, _ = await server.console("viewer")
    page = await browser.get("/")
    assert page.status_code == 200 and "Test hub" in page.text
    page = await browser.get(f"/sites/{site}")
    assert page.status_code == 200 and "CP-PAGE" in page.text
