"""Tariffs over REST: an OCPI 2.2.1 Tariff in, the same with its identity out; replaced whole;
read by viewers, written by admins; a site's public tariff, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from evhub.billing.tariff import Tariff
from tests.integration.live_server import LiveServer, run_server
from tests.unit.billing.sessions import example

IDENTITY = ("id", "country_code", "party_id", "last_updated")


def body_of(name: str) -> dict[str, Any]:
    """A vendored OCPI example without the fields the owner assigns, as JSON numbers."""
    raw = json.loads(json.dumps(example(name), default=float))
    return {k: v for k, v in raw.items() if k not in IDENTITY}


async def test_a_tariff_is_created_with_its_identity_and_read_back(server: LiveServer) -> None:
    body = body_of("tariff_4_complex")
    r = await server.http.post("/api/v1/tariffs", json=body)
    assert r.status_code == 201, r.text
    created = r.json()
    assert (created["country_code"], created["party_id"]) == ("FR", "EVH")
    assert 1 <= len(created["id"]) <= 36
    assert created["last_updated"].endswith("Z") and len(created["last_updated"]) <= 25
    assert {k: v for k, v in created.items() if k not in IDENTITY} == body
    assert created["elements"][1]["price_components"][0]["price"] == 1.0  # a JSON number
    assert Tariff.model_validate(created).elements[0].price_components[0].price == Decimal("2.5")

    r = await server.http.get(f"/api/v1/tariffs/{created['id']}")
    assert r.status_code == 200 and r.json() == created
    listed = (await server.http.get("/api/v1/tariffs")).json()
    assert [t["id"] for t in listed] == [created["id"]]


async def test_identity_fields_are_refused_in_the_body(server: LiveServer) -> None:
    for field, value in [("id", "12"), ("party_id", "ABC"), ("last_updated", "2026-01-01")]:
        r = await server.http.post(
            "/api/v1/tariffs", json=body_of("tariff_1_simple_2hour") | {field: value}
        )
        assert r.status_code == 422, (field, r.text)


async def test_invalid_tariffs_are_refused(server: LiveServer) -> None:
    body = body_of("tariff_13_simple_3hour_5parking")
    time = {"type": "TIME", "price": 1, "step_size": 1}
    broken = [
        body | {"elements": []},
        body | {"currency": "euro"},
        body | {"elements": [{"price_components": [time | {"step_size": -1}]}]},
        body | {"elements": [{"price_components": [time | {"type": "KWH"}]}]},
        body | {"elements": [{"price_components": [time], "restrictions": {"end_time": "7h"}}]},
        body | {"min_price": {"excl_vat": 5}, "max_price": {"excl_vat": 2}},
    ]  # fmt: skip
    for candidate in broken:
        r = await server.http.post("/api/v1/tariffs", json=candidate)
        assert r.status_code == 422, (candidate, r.text)
    assert (await server.http.get("/api/v1/tariffs")).json() == []


async def test_put_replaces_the_whole_tariff(server: LiveServer) -> None:
    created = (
        await server.http.post("/api/v1/tariffs", json=body_of("tariff_8_simple_025kwh"))
    ).json()
    replacement = body_of("tariff_6_025kwh_start_max_price")
    r = await server.http.put(f"/api/v1/tariffs/{created['id']}", json=replacement)
    assert r.status_code == 200, r.text
    replaced = r.json()
    assert replaced["id"] == created["id"]
    assert replaced["max_price"] == {"excl_vat": 10.0, "incl_vat": 11.0}
    assert replaced["last_updated"] >= created["last_updated"]
    assert (await server.http.get(f"/api/v1/tariffs/{created['id']}")).json() == replaced
    r = await server.http.put("/api/v1/tariffs/no-such-tariff", json=replacement)
    assert r.status_code == 404


async def test_viewers_read_and_admins_write(server: LiveServer) -> None:
    body = body_of("tariff_9_025kwh_start")
    viewer, operator, nobody = (
        await server.client("viewer"),
        await server.client("operator"),
        await server.client(None),
    )
    created = (await server.http.post("/api/v1/tariffs", json=body)).json()
    assert (await viewer.get(f"/api/v1/tariffs/{created['id']}")).status_code == 200
    assert (await viewer.get("/api/v1/tariffs")).status_code == 200
    assert (await nobody.get("/api/v1/tariffs")).status_code == 401
    for client in (viewer, operator):
        assert (await client.post("/api/v1/tariffs", json=body)).status_code == 403
        r = await client.put(f"/api/v1/tariffs/{created['id']}", json=body)
        assert r.status_code == 403


async def test_a_site_takes_a_public_tariff(server: LiveServer) -> None:
    site = await server.add_site()
    assert (await server.http.get(f"/api/v1/sites/{site}")).json()["tariff_id"] is None
    created = (
        await server.http.post("/api/v1/tariffs", json=body_of("tariff_9_025kwh_start"))
    ).json()

    r = await server.http.patch(f"/api/v1/sites/{site}", json={"tariff_id": created["id"]})
    assert r.status_code == 200, r.text
    assert r.json()["tariff_id"] == created["id"]

    r = await server.http.patch(f"/api/v1/sites/{site}", json={"tariff_id": "no-such-tariff"})
    assert r.status_code == 422 and "no-such-tariff" in r.json()["detail"]
    assert (await server.http.get(f"/api/v1/sites/{site}")).json()["tariff_id"] == created["id"]

    r = await server.http.patch(f"/api/v1/sites/{site}", json={"tariff_id": None})
    assert r.status_code == 200 and r.json()["tariff_id"] is None


async def test_the_party_comes_from_settings(database_url: str) -> None:
    async with run_server(database_url, ocpi_country_code="BE", ocpi_party_id="BEC") as live:
        r = await live.http.post("/api/v1/tariffs", json=body_of("tariff_1_simple_2hour"))
        assert r.status_code == 201, r.text
        assert (r.json()["country_code"], r.json()["party_id"]) == ("BE", "BEC")
