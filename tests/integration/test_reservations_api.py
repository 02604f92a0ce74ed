"""Bookings over REST: search, book, concurrent races, change, cancel, calendars, access
windows and the authorization check, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from tests.integration.live_server import LiveServer
from tests.integration.reservations_hub import (
    END,
    NOW,
    START,
    StoppedClock,
    add_driver,
    booking_body,
    hub_server,
)

H = timedelta(hours=1)


@pytest.fixture
def clock() -> StoppedClock:
    return StoppedClock(NOW)


@pytest.fixture
async def hub(database_url: str, clock: StoppedClock) -> AsyncIterator[LiveServer]:
    async with hub_server(database_url, clock) as live:
        yield live


EVSES = [
    {"evse_id": 1, "current_type": "AC", "max_power_kw": 22},
    {"evse_id": 2, "current_type": "AC", "max_power_kw": 11},
    {"evse_id": 3, "current_type": "DC", "max_power_kw": 150},
]


async def _site(server: LiveServer) -> int:
    site = await server.add_site()
    await server.add_station("CP-H", site, evses=EVSES)
    return site


async def test_twenty_drivers_racing_for_one_evse_get_one_booking(hub: LiveServer) -> None:
    site = await _site(hub)
    drivers = [await add_driver(hub, f"racer{i}") for i in range(20)]
    bodies = [booking_body(site, d, station_id="CP-H", evse_id=1) for d in drivers]
    replies = await asyncio.gather(*(hub.http.post("/api/v1/bookings", json=b) for b in bodies))
    assert Counter(r.status_code for r in replies) == {201: 1, 409: 19}
    for reply in replies:
        if reply.status_code == 409:
            assert reply.json()["conflicting"] == {
                "starts_at": START.isoformat(),
                "ends_at": END.isoformat(),
                "station_id": "CP-H",
                "evse_id": 1,
            }
    held = (await hub.http.get("/api/v1/bookings", params={"site_id": site})).json()
    assert len(held) == 1


async def test_drivers_racing_without_naming_an_evse_fill_each_one_once(hub: LiveServer) -> None:
    site = await _site(hub)
    drivers = [await add_driver(hub, f"racer{i}") for i in range(12)]
    bodies = [booking_body(site, d, current_type="AC") for d in drivers]
    replies = await asyncio.gather(*(hub.http.post("/api/v1/bookings", json=b) for b in bodies))
    assert Counter(r.status_code for r in replies) == {201: 2, 409: 10}
    places = {
        (r.json()["station_id"], r.json()["evse_id"]) for r in replies if r.status_code == 201
    }
    assert places == {("CP-H", 1), ("CP-H", 2)}


async def test_search_book_list_change_and_cancel(hub: LiveServer) -> None:
    site = await _site(hub)
    ada = await add_driver(hub, "ada")
    params = {"starts_at": START.isoformat(), "ends_at": END.isoformat(), "current_type": "AC"}
    free = (await hub.http.get(f"/api/v1/sites/{site}/bookable-evses", params=params)).json()
    assert [(e["station_id"], e["evse_id"]) for e in free] == [("CP-H", 2), ("CP-H", 1)]
    r = await hub.http.post(
        "/api/v1/bookings", json=booking_body(site, ada, min_power_kw=20, energy_kwh=32.5)
    )
    assert r.status_code == 201, r.text
    booking = r.json()
    assert (booking["station_id"], booking["evse_id"], booking["state"]) == ("CP-H", 1, "booked")
    assert (booking["id_token"], booking["energy_kwh"]) == ("ADA-1", 32.5)
    free = (await hub.http.get(f"/api/v1/sites/{site}/bookable-evses", params=params)).json()
    assert [(e["station_id"], e["evse_id"]) for e in free] == [("CP-H", 2)]

    mine = (await hub.http.get("/api/v1/bookings", params={"driver_id": ada})).json()
    assert [b["id"] for b in mine] == [booking["id"]]
    later = {"starts_at": (START + H).isoformat(), "ends_at": (END + H).isoformat()}
    r = await hub.http.patch(f"/api/v1/bookings/{booking['id']}", json=later)
    assert r.status_code == 200, r.text
    assert r.json()["starts_at"] == "2026-11-25T10:00:00Z"

    r = await hub.http.post(f"/api/v1/bookings/{booking['id']}/cancel", json={})
    assert (r.status_code, r.json()["state"], r.json()["fee_rule"]) == (200, "cancelled", None)
    r = await hub.http.post(f"/api/v1/bookings/{booking['id']}/cancel", json={})
    assert r.status_code == 409  # an illegal move
    assert r.json()["state"] == "cancelled"


async def test_a_late_cancellation_records_a_fee(hub: LiveServer, clock: StoppedClock) -> None:
    site = await _site(hub)
    ada = await add_driver(hub, "ada")
    booking = (await hub.http.post("/api/v1/bookings", json=booking_body(site, ada))).json()
    clock.current = START - timedelta(minutes=29)
    r = await hub.http.patch(f"/api/v1/bookings/{booking['id']}", json={"energy_kwh": 5})
    assert r.status_code == 409  # too late to change
    r = await hub.http.post(f"/api/v1/bookings/{booking['id']}/cancel", json={"note": "sick"})
    assert (r.json()["fee_rule"], r.json()["note"]) == ("late_cancellation", "sick")


async def test_operator_calendar_and_overrides(hub: LiveServer) -> None:
    site = await _site(hub)
    ada, bo = await add_driver(hub, "ada"), await add_driver(hub, "bo")
    a = (await hub.http.post("/api/v1/bookings", json=booking_body(site, ada))).json()
    b = (await hub.http.post("/api/v1/bookings", json=booking_body(site, bo))).json()
    r = await hub.http.post(
        f"/api/v1/bookings/{a['id']}/override",
        json={"action": "assign", "station_id": "CP-H", "evse_id": b["evse_id"]},
    )
    assert r.status_code == 409 and "conflicting" in r.json()
    r = await hub.http.post(
        f"/api/v1/bookings/{a['id']}/override",
        json={"action": "assign", "station_id": "CP-H", "evse_id": 3, "note": "AC works"},
    )
    assert (r.json()["evse_id"], r.json()["note"]) == (3, "AC works")
    r = await hub.http.post(f"/api/v1/bookings/{b['id']}/override", json={"action": "cancel"})
    assert (r.json()["cancelled_by"], r.json()["fee_rule"]) == ("operator", None)

    day = (
        await hub.http.get(f"/api/v1/sites/{site}/calendar", params={"day": "2026-11-25"})
    ).json()
    assert (day["starts_at"], day["ends_at"]) == ("2026-11-24T23:00:00Z", "2026-11-25T23:00:00Z")
    by_evse = {e["evse_id"]: [x["id"] for x in e["bookings"]] for e in day["evses"]}
    assert by_evse == {1: [], 2: [], 3: [a["id"]]}
    dst = (
        await hub.http.get(f"/api/v1/sites/{site}/calendar", params={"day": "2026-10-25"})
    ).json()
    assert (dst["starts_at"], dst["ends_at"]) == ("2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z")


async def test_access_windows_refuse_bookings_and_authorizations_outside(
    hub: LiveServer, clock: StoppedClock
) -> None:
    site = await _site(hub)
    ada = await add_driver(hub, "ada", "resident")
    windows = [
        {"user_group": "resident", "days": [0, 1, 2, 3, 4], "start": "19:00", "end": "08:00",
         "quota": 12},
        {"user_group": "resident", "days": [5, 6], "start": "00:00", "end": "24:00", "quota": 12},
    ]  # fmt: skip
    r = await hub.http.put(f"/api/v1/sites/{site}/access-windows", json=windows)
    assert r.status_code == 200, r.text
    assert (await hub.http.get(f"/api/v1/sites/{site}/access-windows")).json()[0] | {"id": 0} == (
        windows[0] | {"id": 0}
    )
    r = await hub.http.post("/api/v1/bookings", json=booking_body(site, ada))
    assert r.status_code == 422
    assert r.json()["open"] == ["Mon,Tue,Wed,Thu,Fri 19:00-08:00", "Sat,Sun 00:00-24:00"]

    auth = await hub.http.get("/api/v1/tokens/ADA-1/authorization", params={"station_id": "CP-H"})
    assert auth.json()["status"] == "NotAtThisTime"
    assert "next opening Wed 25 Nov 19:00" in auth.json()["reason"]
    assert (await hub.http.get("/api/v1/tokens/ADA-1/authorization")).json()["status"] == (
        "Accepted"
    )
    r = await hub.http.put(
        f"/api/v1/sites/{site}/holidays", json=[{"day": "2026-11-25", "name": "Hub day"}]
    )
    assert r.json() == [{"day": "2026-11-25", "treat_as": 6, "name": "Hub day"}]
    auth = await hub.http.get("/api/v1/tokens/ADA-1/authorization", params={"station_id": "CP-H"})
    assert auth.json()["status"] == "Accepted"
    clock.current = NOW + 24 * H  # Thursday, an ordinary day again
    auth = await hub.http.get("/api/v1/tokens/ADA-1/authorization", params={"station_id": "CP-H"})
    assert auth.json()["status"] == "NotAtThisTime"


async def test_the_api_is_described_in_openapi(hub: LiveServer) -> None:
    paths = (await hub.http.get("/openapi.json")).json()["paths"]
    for path in (
        "/api/v1/bookings",
        "/api/v1/bookings/{booking_id}",
        "/api/v1/bookings/{booking_id}/cancel",
        "/api/v1/bookings/{booking_id}/override",
        "/api/v1/sites/{site_id}/bookable-evses",
        "/api/v1/sites/{site_id}/calendar",
        "/api/v1/sites/{site_id}/access-windows",
        "/api/v1/sites/{site_id}/holidays",
    ):
        assert path in paths
    schema = (await hub.http.get("/openapi.json")).json()["components"]["schemas"]
    assert schema["BookingState"]["enum"] == [
        "booked", "reserved", "unassigned", "in_use", "completed", "cancelled", "no_show"
    ]  # fmt: skip
