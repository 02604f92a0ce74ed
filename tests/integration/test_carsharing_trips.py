"""Car-sharing over HTTP with the real server: book a car, report its condition with photos,
start the trip through the simulated telematics unit, drive, end it late with less range;
fees, readings and the car's next state. The booking race, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from evhub.events import Event
from tests.committed_events import committed
from tests.integration.carsharing_hub import PNG, RIFTER, ZOE, CarHub, car_hub, fresh_clock
from tests.integration.reservations_hub import NOW, StoppedClock

H = timedelta(hours=1)


@pytest.fixture
def clock() -> StoppedClock:
    return fresh_clock()


@pytest.fixture
async def hub(database_url: str, clock: StoppedClock) -> AsyncIterator[CarHub]:
    async with car_hub(database_url, clock) as live:
        yield live


async def test_a_driver_books_drives_and_returns_a_car_late(hub: CarHub) -> None:
    zoe = await hub.add_vehicle(ZOE)
    ada = await hub.add_member("ada")
    found = await hub.operator.get(
        "/api/v1/carsharing/available-vehicles",
        params={"site_id": hub.site_id, "ends_at": (NOW + H).isoformat(), "propulsion": "electric"},
    )
    assert [v["id"] for v in found.json()] == [zoe["id"]]

    r = await hub.book(ada, zoe["id"], NOW + H)  # immediate use, for an hour
    assert r.status_code == 201, r.text
    booking = r.json()
    assert booking["starts_at"] == NOW.isoformat().replace("+00:00", "Z")
    assert (await hub.server.http.get(f"/api/v1/fleet/vehicles/{zoe['id']}")).json()[
        "state"
    ] == "booked"

    refused = await hub.operator.post(f"/api/v1/carsharing/bookings/{booking['id']}/start")
    assert refused.status_code == 409 and "report" in refused.json()["detail"]
    r = await hub.report(booking["id"], photos=2)
    assert r.status_code == 201, r.text
    assert [p["size_bytes"] for p in r.json()["photos"]] == [len(PNG) + 1] * 2
    var_dir = Path(hub.server.app.state.settings.var_dir)
    photo_url = f"/api/v1/carsharing/photos/{r.json()['photos'][0]['id']}"
    served = await (await hub.server.client("viewer")).get(photo_url)
    assert served.content == PNG + bytes([0]) and served.headers["content-type"] == "image/png"
    for photo in r.json()["photos"]:
        assert (var_dir / "carsharing" / "photos" / f"{photo['sha256']}.png").read_bytes()[
            :8
        ] == PNG[:8]

    hub.clock.current = NOW + timedelta(minutes=2)
    r = await hub.operator.post(f"/api/v1/carsharing/bookings/{booking['id']}/start")
    assert r.status_code == 200, r.text
    trip = r.json()
    assert (trip["start_odometer_km"], trip["start_soc_pct"]) == (0.0, 100.0)
    car = await hub.car(zoe["id"])
    assert not car.doors_locked
    car.drive(200.0)

    hub.clock.current = NOW + H + timedelta(minutes=29, seconds=30)  # 30 minutes begun late
    log = hub.server.app.state.services.events
    before = await log.head()
    r = await hub.operator.post(f"/api/v1/carsharing/bookings/{booking['id']}/end")
    assert r.status_code == 200, r.text
    published = _by_kind(await committed(log, before))
    trip = r.json()
    assert car.doors_locked
    assert trip["distance_km"] == 200.0
    assert trip["end_soc_pct"] == pytest.approx(100 / 3, abs=0.01)
    assert len(trip["reports"]) == 1 and len(trip["reports"][0]["photos"]) == 2
    (fee,) = trip["booking"]["fees"]
    assert fee["kind"] == "late_return" and fee["quantity"] == 30
    assert Decimal(fee["amount"]) == Decimal("15.00") + 30 * Decimal("0.50")
    assert fee["currency"] == "EUR"

    vehicle = (await hub.server.http.get(f"/api/v1/fleet/vehicles/{zoe['id']}")).json()
    assert vehicle["state"] == "charging"  # a third of its charge left, under 40 %
    assert vehicle["odometer_km"] == 200.0
    returned = published["carsharing.vehicle_returned"]
    assert returned["soc_pct"] == trip["end_soc_pct"]
    assert returned["next_booking_starts_at"] is None
    assert published["carsharing.trip_ended"]["fees"] == [
        {"kind": "late_return", "amount": "30.00", "currency": "EUR"}
    ]


async def test_a_booking_not_started_in_time_is_closed_as_a_no_show(hub: CarHub) -> None:
    rifter = await hub.add_vehicle(RIFTER)
    bo = await hub.add_member("bo")
    r = await hub.book(bo, rifter["id"], NOW + 3 * H, NOW + H)
    assert r.status_code == 201, r.text
    hub.clock.current = NOW + H
    await hub.server.app.state.carsharing.tick()
    vehicle = (await hub.server.http.get(f"/api/v1/fleet/vehicles/{rifter['id']}")).json()
    assert vehicle["state"] == "booked"
    hub.clock.current = NOW + H + timedelta(minutes=16)
    await hub.server.app.state.carsharing.tick()
    booking = (await hub.operator.get(f"/api/v1/carsharing/bookings/{r.json()['id']}")).json()
    assert booking["state"] == "no_show"
    vehicle = (await hub.server.http.get(f"/api/v1/fleet/vehicles/{rifter['id']}")).json()
    assert vehicle["state"] == "available"


async def test_thirty_drivers_racing_for_one_car_get_one_booking(hub: CarHub) -> None:
    zoe = await hub.add_vehicle(ZOE)
    drivers = [await hub.add_member(f"racer{i}") for i in range(30)]
    replies = await asyncio.gather(
        *(hub.book(d, zoe["id"], NOW + 4 * H, NOW + 2 * H) for d in drivers)
    )
    assert Counter(r.status_code for r in replies) == {201: 1, 409: 29}
    held = await hub.operator.get(
        "/api/v1/carsharing/bookings", params={"vehicle_id": zoe["id"], "state": "booked"}
    )
    assert len(held.json()) == 1


async def test_fleet_roles_and_rules(hub: CarHub) -> None:
    viewer = await hub.server.client("viewer")
    body = ZOE | {"home_site_id": hub.site_id}
    assert (await viewer.post("/api/v1/fleet/vehicles", json=body)).status_code == 403
    assert (await hub.operator.post("/api/v1/fleet/vehicles", json=body)).status_code == 403
    zoe = await hub.add_vehicle(ZOE)
    assert (await viewer.get("/api/v1/fleet/vehicles")).json()[0]["plate"] == "GE-123-ZO"
    again = await hub.server.http.post("/api/v1/fleet/vehicles", json=body)
    assert again.status_code == 409
    no_battery = body | {"plate": "XX-1", "battery_kwh": None}
    assert (
        await hub.server.http.post("/api/v1/fleet/vehicles", json=no_battery)
    ).status_code == 422
    thermal_battery = RIFTER | {"home_site_id": hub.site_id, "battery_kwh": 10}
    r = await hub.server.http.post("/api/v1/fleet/vehicles", json=thermal_battery)
    assert r.status_code == 422
    patch = {"state": "in_trip"}
    r = await hub.server.http.patch(f"/api/v1/fleet/vehicles/{zoe['id']}", json=patch)
    assert r.status_code == 422
    r = await hub.server.http.patch(
        f"/api/v1/fleet/vehicles/{zoe['id']}", json={"state": "maintenance", "seats": 4}
    )
    assert r.status_code == 200 and (r.json()["state"], r.json()["seats"]) == ("maintenance", 4)
    r = await hub.server.http.patch(
        f"/api/v1/fleet/vehicles/{zoe['id']}", json={"state": "charging"}
    )
    assert r.status_code == 409  # maintenance -> charging is not a move


def _by_kind(events: list[Event]) -> dict[str, dict[str, object]]:
    """The latest event of each kind (read back from the outbox, so JSON all through)."""
    return {event.kind: event.data for event in events}


async def test_photos_are_checked_and_capped(database_url: str, clock: StoppedClock) -> None:
    settings = {"carsharing_photo_max_bytes": 1024, "carsharing_photos_per_report": 2}
    async with car_hub(database_url, clock, **settings) as hub:
        zoe = await hub.add_vehicle(ZOE)
        booking = (await hub.book(await hub.add_member("ada"), zoe["id"], NOW + H)).json()
        url = f"/api/v1/carsharing/bookings/{booking['id']}/reports"
        data = {"phase": "before", "damage": "minor", "cleanliness": "3"}
        big = [("photos", ("big.png", PNG + b"\x00" * 1024, "image/png"))]
        fake = [("photos", ("fake.jpg", PNG, "image/jpeg"))]
        text = [("photos", ("notes.txt", b"hello", "text/plain"))]
        many = [("photos", (f"{i}.png", PNG, "image/png")) for i in range(3)]
        for files in (big, fake, text, many):
            r = await hub.operator.post(url, data=data, files=files)
            assert r.status_code == 422, r.text
        huge = [("photos", ("huge.png", PNG + b"\x00" * 100_000, "image/png"))]
        r = await hub.operator.post(url, data=data, files=huge)
        assert r.status_code == 413, r.text  # refused from its Content-Length, unread
        photos = Path(hub.server.app.state.settings.var_dir) / "carsharing" / "photos"
        assert not photos.exists() or not any(photos.iterdir())
        r = await hub.operator.post(url, data=data, files=many[:2])
        assert r.status_code == 201, r.text
        assert len(list(photos.iterdir())) == 1  # the same photo twice is stored once
        assert len(r.json()["photos"]) == 2


async def test_maintenance_blocks_and_cancellation_over_http(hub: CarHub) -> None:
    zoe = await hub.add_vehicle(ZOE)
    ada = await hub.add_member("ada")
    block = {"starts_at": (NOW + 2 * H).isoformat(), "ends_at": (NOW + 4 * H).isoformat()}
    r = await hub.server.http.post(f"/api/v1/fleet/vehicles/{zoe['id']}/blocks", json=block)
    assert r.status_code == 201 and r.json()["kind"] == "maintenance", r.text
    assert (await hub.book(ada, zoe["id"], NOW + 5 * H, NOW + 3 * H)).status_code == 409
    search = {"site_id": hub.site_id, "starts_at": block["starts_at"], "ends_at": block["ends_at"]}
    found = await hub.operator.get("/api/v1/carsharing/available-vehicles", params=search)
    assert found.json() == []

    r = await hub.book(ada, zoe["id"], NOW + H)
    assert r.status_code == 201, r.text
    r = await hub.operator.post(f"/api/v1/carsharing/bookings/{r.json()['id']}/cancel", json={})
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    vehicle = (await hub.server.http.get(f"/api/v1/fleet/vehicles/{zoe['id']}")).json()
    assert vehicle["state"] == "available"
    again = await hub.operator.post(f"/api/v1/carsharing/bookings/{r.json()['id']}/cancel", json={})
    assert again.status_code == 409
    stranger = await hub.server.http.post("/api/v1/drivers", json={"name": "no licence"})
    r = await hub.book(stranger.json()["id"], zoe["id"], NOW + H)
    assert r.status_code == 409 and "licence" in r.json()["detail"]
