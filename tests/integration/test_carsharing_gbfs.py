"""The public GBFS 3.0 feed: every file validates against MobilityData's official schemas
(vendored in tests/gbfs_schemas), with no credentials; vehicle ids rotate after each trip and
a car in a trip is not shown."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import jsonschema
import pytest

from tests.integration.carsharing_hub import HUB, RIFTER, ZOE, CarHub, car_hub, fresh_clock
from tests.integration.reservations_hub import NOW

SCHEMAS = Path(__file__).parent.parent / "gbfs_schemas"
PUBLIC_URL = "https://cars.example.org"
FILES = (
    "gbfs", "system_information", "vehicle_types", "station_information", "station_status",
    "vehicle_status", "system_pricing_plans",
)  # fmt: skip
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")

# The installed jsonschema checks neither date-time nor uri without optional packages: check
# them here, so that the schemas' formats are enforced too.
FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("date-time")
def _is_datetime(value: object) -> bool:
    if not isinstance(value, str) or not RFC3339.match(value):
        return False
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


@FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    parts = urlsplit(str(value))
    return bool(parts.scheme and (parts.netloc or parts.path))


def validate(name: str, document: dict[str, Any]) -> None:
    schema = json.loads((SCHEMAS / f"{name}.json").read_text())
    validator = jsonschema.Draft7Validator(schema, format_checker=FORMATS)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == [], f"{name}.json: {errors}"


@pytest.fixture
async def hub(database_url: str) -> AsyncIterator[CarHub]:
    async with car_hub(database_url, fresh_clock(), public_url=PUBLIC_URL + "/") as live:
        yield live


async def public(hub: CarHub) -> httpx.AsyncClient:
    return await hub.server.client(None)


async def feeds(hub: CarHub) -> dict[str, dict[str, Any]]:
    """Every file, fetched without credentials at the URL the discovery file gives."""
    anyone = await public(hub)
    r = await anyone.get("/gbfs/gbfs.json")
    assert r.status_code == 200, r.text
    out = {"gbfs": r.json()}
    for feed in r.json()["data"]["feeds"]:
        assert feed["url"] == f"{PUBLIC_URL}/gbfs/{feed['name']}.json"
        reply = await anyone.get(urlsplit(feed["url"]).path)
        assert reply.status_code == 200, reply.text
        out[feed["name"]] = reply.json()
    return out


async def vehicles(hub: CarHub) -> dict[str, dict[str, Any]]:
    r = await (await public(hub)).get("/gbfs/vehicle_status.json")
    return {v["vehicle_type_id"]: v for v in r.json()["data"]["vehicles"]}


async def test_every_file_of_the_feed_validates_against_the_official_schemas(hub: CarHub) -> None:
    await hub.add_vehicle(ZOE)
    await hub.add_vehicle(RIFTER)
    broken = await hub.add_vehicle(ZOE | {"plate": "AB-000-CD"})
    r = await hub.server.http.patch(
        f"/api/v1/fleet/vehicles/{broken['id']}", json={"state": "damaged"}
    )
    assert r.status_code == 200, r.text
    files = await feeds(hub)
    assert sorted(files) == sorted(FILES)
    for name, document in files.items():
        validate(name, document)
        assert document["version"] == "3.0"

    (station,) = files["station_information"]["data"]["stations"]
    assert (station["lat"], station["lon"]) == HUB
    (status,) = files["station_status"]["data"]["stations"]
    assert status["num_vehicles_available"] == 2
    assert status["num_vehicles_disabled"] == 1
    types = {t["vehicle_type_id"]: t for t in files["vehicle_types"]["data"]["vehicle_types"]}
    assert {t["propulsion_type"] for t in types.values()} == {"electric", "combustion"}
    assert {t["max_range_meters"] for t in types.values()} == {300_000, 700_000}
    shown = files["vehicle_status"]["data"]["vehicles"]
    assert sorted(v["is_disabled"] for v in shown) == [False, False, True]
    assert {v["current_range_meters"] for v in shown} == {300_000, 700_000}


async def test_a_schema_violation_would_be_caught() -> None:
    """The check itself can fail: a vehicle without its rotating id is refused."""
    document = {"last_updated": "2026-11-25T08:00:00Z", "ttl": 0, "version": "3.0",
                "data": {"vehicles": [{"is_reserved": False, "is_disabled": False,
                                       "lat": 1.0, "lon": 2.0}]}}  # fmt: skip
    with pytest.raises(AssertionError, match="vehicle_id"):
        validate("vehicle_status", document)
    document["data"] = {"vehicles": []}
    document["last_updated"] = "25/11/2026"
    with pytest.raises(AssertionError, match="date-time"):
        validate("vehicle_status", document)


async def test_vehicle_ids_rotate_after_each_trip_and_trips_are_not_shown(hub: CarHub) -> None:
    zoe = await hub.add_vehicle(ZOE)
    await hub.add_vehicle(RIFTER)
    ada = await hub.add_member("ada")
    type_id = "electric-renault-zoe-5"
    before = (await vehicles(hub))[type_id]
    assert before["current_range_meters"] == 300_000

    booking = (await hub.book(ada, zoe["id"], NOW + timedelta(hours=2))).json()
    reserved = (await vehicles(hub))[type_id]
    assert reserved["is_reserved"] is True and reserved["vehicle_id"] == before["vehicle_id"]
    assert (await hub.report(booking["id"])).status_code == 201
    r = await hub.operator.post(f"/api/v1/carsharing/bookings/{booking['id']}/start")
    assert r.status_code == 200, r.text
    assert type_id not in await vehicles(hub)  # in a trip: not shown

    (await hub.car(zoe["id"])).drive(75.0)
    r = await hub.operator.post(f"/api/v1/carsharing/bookings/{booking['id']}/end")
    assert r.status_code == 200, r.text
    after = (await vehicles(hub))[type_id]
    assert after["vehicle_id"] != before["vehicle_id"]
    assert after["current_range_meters"] == 225_000
    assert after["current_fuel_percent"] == 0.75
    validate("vehicle_status", (await (await public(hub)).get("/gbfs/vehicle_status.json")).json())
    assert (await (await public(hub)).get("/gbfs/nope.json")).status_code == 404
