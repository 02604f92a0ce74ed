"""One driver's requests racing for the same time: the database keeps one booking per driver
and slot, on SQLite and PostgreSQL (where the requests really run at once)."""

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

EVSES = [{"evse_id": n, "current_type": "AC", "max_power_kw": 22} for n in range(1, 7)]


@pytest.fixture
async def hub(database_url: str) -> AsyncIterator[LiveServer]:
    async with hub_server(database_url, StoppedClock(NOW)) as live:
        yield live


async def _site(server: LiveServer) -> int:
    site = await server.add_site()
    await server.add_station("CP-R", site, evses=EVSES)
    return site


async def test_fifty_requests_of_one_driver_for_one_slot_give_one_booking(
    hub: LiveServer,
) -> None:
    site = await _site(hub)
    ada = await add_driver(hub, "ada")
    body = booking_body(site, ada)
    replies = await asyncio.gather(
        *(hub.http.post("/api/v1/bookings", json=body) for _ in range(50))
    )
    assert Counter(r.status_code for r in replies) == {201: 1, 409: 49}
    for reply in replies:
        if reply.status_code == 409:
            assert reply.json()["reason"] == "driver_overlap", reply.text
    held = (await hub.http.get("/api/v1/bookings", params={"driver_id": ada})).json()
    assert len(held) == 1 and held[0]["state"] == "booked"


async def test_overlapping_slots_of_one_driver_race_to_one_booking(hub: LiveServer) -> None:
    """Each request its own EVSE and a slot shifted by minutes: still one booking."""
    site = await _site(hub)
    ada = await add_driver(hub, "ada")
    bodies = [
        booking_body(
            site,
            ada,
            START + timedelta(minutes=5 * i),
            END + timedelta(minutes=5 * i),
            station_id="CP-R",
            evse_id=1 + i % 6,
        )  # fmt: skip
        for i in range(12)
    ]
    replies = await asyncio.gather(*(hub.http.post("/api/v1/bookings", json=b) for b in bodies))
    assert Counter(r.status_code for r in replies) == {201: 1, 409: 11}
    held = (await hub.http.get("/api/v1/bookings", params={"driver_id": ada})).json()
    assert len(held) == 1


async def test_back_to_back_bookings_of_one_driver_are_fine(hub: LiveServer) -> None:
    site = await _site(hub)
    ada = await add_driver(hub, "ada")
    first = booking_body(site, ada)
    second = booking_body(site, ada, END, END + (END - START))
    replies = await asyncio.gather(
        hub.http.post("/api/v1/bookings", json=first),
        hub.http.post("/api/v1/bookings", json=second),
    )
    assert [r.status_code for r in replies] == [201, 201]
