"""The driver pages of shared cars over HTTP: a driver sees and drives only their own bookings,
every form needs the session's CSRF token, and a report's photos are checked like the API's."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from evhub.accounts import selfservice
from tests.integration.carsharing_hub import PNG, ZOE, CarHub, car_hub, fresh_clock
from tests.integration.reservations_hub import NOW

PASSWORD = "correct horse battery"


@pytest.fixture
async def hub(database_url: str) -> AsyncIterator[CarHub]:
    async with car_hub(database_url, fresh_clock()) as live:
        yield live


async def _driver(hub: CarHub, name: str) -> tuple[httpx.AsyncClient, str]:
    """A member with an account, signed in: a client with its session, and its CSRF token."""
    app = hub.server.app
    email = f"{name}@example.org"
    async with app.state.services.uow() as session:
        driver = await selfservice.sign_up(session, app.state.account_config, name, email,
                                           PASSWORD, NOW)  # fmt: skip
        driver.email_verified_at = NOW
        driver_id = driver.id
    licence = {"driver_id": driver_id, "licence_number": f"L-{name}",
               "licence_expires_on": "2031-05-01"}  # fmt: skip
    assert (await hub.server.http.put("/api/v1/carsharing/members", json=licence)).is_success
    client = await hub.server.client(None)
    r = await client.post("/api/v1/accounts/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    client.headers["Authorization"] = f"Bearer {r.json()['token']}"
    csrf = re.search(r'name="csrf" value="([^"]+)"', (await client.get("/account")).text)
    assert csrf is not None
    return client, csrf.group(1)


async def test_a_driver_acts_only_on_their_own_bookings(hub: CarHub) -> None:
    zoe = await hub.add_vehicle(ZOE)
    ada, ada_csrf = await _driver(hub, "ada")
    bo, bo_csrf = await _driver(hub, "bo")
    form = {"csrf": ada_csrf, "vehicle_id": str(zoe["id"]), "site_id": str(hub.site_id),
            "hours": "1", "planned_km": "30"}  # fmt: skip
    assert (await ada.post("/account/cars/book", data=form | {"csrf": "forged"})).status_code == 403
    r = await ada.post("/account/cars/book", data=form)
    assert r.status_code == 303, r.text
    path = r.headers["location"]
    booking_id = int(path.rsplit("/", 1)[1])
    assert (await ada.get(path)).status_code == 200

    assert (await bo.get(path)).status_code == 404
    for action in ("start", "end", "cancel"):
        r = await bo.post(f"{path}/{action}", data={"csrf": bo_csrf})
        assert r.status_code == 404, (action, r.text)
    photo = {"photos": ("side.png", PNG, "image/png")}
    report = {"csrf": bo_csrf, "phase": "before", "damage": "none", "cleanliness": "5"}
    assert (await bo.post(f"{path}/report", data=report, files=photo)).status_code == 404
    booking = (await hub.operator.get(f"/api/v1/carsharing/bookings/{booking_id}")).json()
    assert booking["state"] == "booked"
    assert (await hub.operator.get(f"/api/v1/carsharing/bookings/{booking_id}")).json()[
        "vehicle_id"
    ] == zoe["id"]

    report["csrf"] = ada_csrf
    assert (
        await ada.post(f"{path}/report", data=report | {"csrf": "x"}, files=photo)
    ).status_code == 403
    text = {"photos": ("notes.txt", b"hello", "text/plain")}
    assert (await ada.post(f"{path}/report", data=report, files=text)).status_code == 422
    photos = Path(hub.server.app.state.settings.var_dir) / "carsharing" / "photos"
    assert not photos.exists() or not any(photos.iterdir())
    assert (await ada.post(f"{path}/report", data=report, files=photo)).status_code == 303
    assert (await ada.post(f"{path}/start", data={"csrf": "forged"})).status_code == 403
    assert (await hub.car(zoe["id"])).doors_locked
    hub.clock.current = NOW + timedelta(minutes=1)
    assert (await ada.post(f"{path}/start", data={"csrf": ada_csrf})).status_code == 303
    assert not (await hub.car(zoe["id"])).doors_locked


async def test_the_pages_send_anyone_not_signed_in_to_the_sign_in(hub: CarHub) -> None:
    nobody = await hub.server.client(None)
    for path in ("/account/cars", "/account/cars/bookings/1"):
        r = await nobody.get(path)
        assert r.status_code == 303 and r.headers["location"] == "/account/login"
    r = await nobody.post("/account/cars/bookings/1/start", data={"csrf": "x"})
    assert r.status_code == 303 and r.headers["location"] == "/account/login"
