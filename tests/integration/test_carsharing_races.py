"""One driver's car bookings racing: the database keeps one car per driver at a time and the
quota per period, on SQLite and PostgreSQL (where the requests really run at once)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from tests.integration.carsharing_hub import ZOE, CarHub, car_hub, fresh_clock
from tests.integration.reservations_hub import NOW

H = timedelta(hours=1)


@pytest.fixture
async def hub(database_url: str) -> AsyncIterator[CarHub]:
    async with car_hub(
        database_url, fresh_clock(), carsharing_quota_bookings=3, carsharing_quota_period="day"
    ) as live:
        yield live


async def test_one_driver_racing_for_ten_cars_at_once_gets_one(hub: CarHub) -> None:
    cars = [(await hub.add_vehicle(ZOE | {"plate": f"GE-{i:03}-ZO"}))["id"] for i in range(10)]
    ada = await hub.add_member("ada")
    replies = await asyncio.gather(
        *(hub.book(ada, car, NOW + 4 * H + i * timedelta(minutes=5), NOW + 2 * H)
          for i, car in enumerate(cars))
    )  # fmt: skip
    assert Counter(r.status_code for r in replies) == {201: 1, 409: 9}, [r.text for r in replies]
    assert {r.json()["reason"] for r in replies if r.status_code == 409} == {"driver_overlap"}
    held = await hub.operator.get(
        "/api/v1/carsharing/bookings", params={"driver_id": ada, "state": "booked"}
    )
    assert len(held.json()) == 1


async def test_one_driver_racing_past_the_quota_gets_the_quota(hub: CarHub) -> None:
    """Ten back-to-back hours of one day on two cars, asked at once: three bookings."""
    cars = [(await hub.add_vehicle(ZOE | {"plate": f"GE-{i:03}-ZO"}))["id"] for i in range(2)]
    ada = await hub.add_member("ada")
    replies = await asyncio.gather(
        *(hub.book(ada, cars[i % 2], NOW + (i + 2) * H, NOW + (i + 1) * H) for i in range(10))
    )
    assert Counter(r.status_code for r in replies) == {201: 3, 409: 7}, [r.text for r in replies]
    assert {r.json()["reason"] for r in replies if r.status_code == 409} == {"quota"}
    held = await hub.operator.get(
        "/api/v1/carsharing/bookings", params={"driver_id": ada, "state": "booked"}
    )
    assert len(held.json()) == 3
