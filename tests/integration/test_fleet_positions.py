"""The fleet map's positions over HTTP: each car at its hub until its unit is read, then where
the trip left it, with its state, level, range and next booking; for a console session as for
a viewer's key, never for an anonymous caller."""

from __future__ import annotations

from datetime import timedelta

from tests.integration.carsharing_hub import HUB, RIFTER, ZOE, car_hub, fresh_clock
from tests.integration.reservations_hub import NOW

H = timedelta(hours=1)
BAY = (HUB[0] + 0.002, HUB[1])  # a bay about 220 m north of the hub, within its radius


def _iso(value: object) -> str:
    return str(value).replace("+00:00", "Z")


async def test_positions_follow_the_telematics_readings(database_url: str) -> None:
    async with car_hub(database_url, fresh_clock()) as hub:
        zoe = await hub.add_vehicle(ZOE)
        rifter = await hub.add_vehicle(RIFTER)
        ada, bo = await hub.add_member("ada"), await hub.add_member("bo")
        viewer = await hub.server.client("viewer")
        assert (
            await (await hub.server.client(None)).get("/api/v1/fleet/positions")
        ).status_code == 401

        booking = (await hub.book(ada, zoe["id"], NOW + H)).json()
        later = await hub.book(bo, rifter["id"], NOW + 5 * H, starts_at=NOW + 3 * H)
        assert later.status_code == 201, later.text
        r = await viewer.get("/api/v1/fleet/positions", params={"site_id": hub.site_id})
        assert r.status_code == 200, r.text
        at_hub = {p["vehicle_id"]: p for p in r.json()}
        assert list(at_hub) == [zoe["id"], rifter["id"]]
        z, f = at_hub[zoe["id"]], at_hub[rifter["id"]]
        assert (z["lat"], z["lon"], z["source"], z["reported_at"]) == (*HUB, "hub", None)
        assert (z["plate"], z["state"], z["soc"], z["fuel"], z["range_km"]) == (
            "GE-123-ZO", "booked", 100.0, None, 300.0,
        )  # fmt: skip
        assert z["next_booking_id"] is None  # its booking has begun: nothing next
        assert (f["state"], f["soc"], f["fuel"], f["range_km"]) == ("available", None, 100.0, 700.0)
        assert (f["next_booking_id"], f["next_booking_starts_at"]) == (
            later.json()["id"], _iso((NOW + 3 * H).isoformat()),
        )  # fmt: skip

        assert (await hub.report(booking["id"])).status_code == 201
        hub.clock.current = NOW + timedelta(minutes=1)
        r = await hub.operator.post(f"/api/v1/carsharing/bookings/{booking['id']}/start")
        assert r.status_code == 200, r.text
        (await hub.car(zoe["id"])).drive(30.0, to=BAY)
        hub.clock.current = NOW + H
        r = await hub.operator.post(f"/api/v1/carsharing/bookings/{booking['id']}/end")
        assert r.status_code == 200, r.text

        page, _ = await hub.server.console("viewer")  # the map asks with the page's session
        r = await page.get("/api/v1/fleet/positions")
        assert r.status_code == 200, r.text
        z = {p["vehicle_id"]: p for p in r.json()}[zoe["id"]]
        assert (z["lat"], z["lon"], z["source"]) == (*BAY, "telematics")
        assert z["reported_at"] == _iso((NOW + H).isoformat())
        assert (z["state"], z["soc"], z["range_km"]) == ("available", 90.0, 270.0)
        other = await hub.server.add_site(latitude=48.8443, longitude=2.3744)
        r = await viewer.get("/api/v1/fleet/positions", params={"site_id": other})
        assert r.json() == []
