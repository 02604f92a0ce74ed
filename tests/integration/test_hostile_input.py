"""Malformed and unauthenticated requests get a 4xx with a reason, never a 5xx."""

from __future__ import annotations

import pytest

from tests.integration.live_server import LiveServer

HUGE = 2**70


async def test_a_non_ascii_upload_token_is_not_found(server: LiveServer) -> None:
    anonymous = await server.client(None)
    r = await anonymous.put("/api/v1/uploads/ST/1/%C3%A9/a.log", content=b"x")
    assert r.status_code == 404 and r.json()["detail"] == "no such upload location"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", f"/api/v1/sites/{HUGE}", None),
        ("PATCH", f"/api/v1/sites/{HUGE}", {"name": "x"}),
        ("GET", f"/api/v1/transactions/{HUGE}", None),
        ("GET", f"/api/v1/tickets/{HUGE}", None),
        ("GET", f"/api/v1/bookings/{HUGE}", None),
        ("GET", f"/api/v1/tokens?offset={HUGE}", None),
        ("GET", f"/api/v1/transactions?offset={HUGE}", None),
        ("GET", f"/api/v1/stations?site_id={HUGE}", None),
        ("GET", "/api/v1/stations/CP-1/events?limit=-1", None),
        ("POST", "/api/v1/stations", {"id": "CP-9", "site_id": HUGE}),
        ("POST", "/api/v1/tokens", {"uid": "T9", "driver_id": HUGE}),
        ("PUT", f"/api/v1/uploads/CP-1/{HUGE}/t/a.log", None),
    ],
)
async def test_numbers_beyond_a_database_integer_are_refused(
    server: LiveServer, method: str, path: str, body: object
) -> None:
    r = await server.http.request(method, path, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["detail"], r.text


async def test_unauthenticated_hostile_requests_are_401(server: LiveServer) -> None:
    anonymous = await server.client(None)
    for path in (f"/api/v1/sites/{HUGE}", f"/api/v1/tokens?offset={HUGE}", "/api/v1/sites/x"):
        r = await anonymous.get(path)
        assert r.status_code == 401, (path, r.text)


async def test_a_site_patch_cannot_null_a_required_field(server: LiveServer) -> None:
    site = await server.add_site(latitude=48.8, longitude=2.3)
    for field in ("name", "timezone", "grid_limit_kw", "address", "town"):
        r = await server.http.patch(f"/api/v1/sites/{site}", json={field: None})
        assert r.status_code == 422 and field in r.text, r.text
    r = await server.http.patch(f"/api/v1/sites/{site}", json={"latitude": None})
    assert r.status_code == 200 and r.json()["latitude"] is None
    assert r.json()["name"] == "Test hub"


@pytest.mark.parametrize(("end", "status"), [("24:20", 422), ("25:00", 422), ("24:00", 200)])
async def test_an_access_window_ends_by_midnight(server: LiveServer, end: str, status: int) -> None:
    site = await server.add_site()
    window = {"user_group": "resident", "days": [0, 1], "start": "19:00", "end": end}
    r = await server.http.put(f"/api/v1/sites/{site}/access-windows", json=[window])
    assert r.status_code == status, r.text


async def test_weekdays_of_an_access_window_are_0_to_6(server: LiveServer) -> None:
    site = await server.add_site()
    window = {"user_group": "resident", "days": [7], "start": "19:00", "end": "08:00"}
    r = await server.http.put(f"/api/v1/sites/{site}/access-windows", json=[window])
    assert r.status_code == 422, r.text
