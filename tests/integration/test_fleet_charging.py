"""Shared cars charged for their next booking, with the real server, a simulated station over
OCPP 2.0.1 and the simulated telematics unit: a trip ends late with less range, the car is
plugged in at its hub, and the planner gives it what its next booking needs; a car that
cannot get it in time opens a ticket; a booking no car can have the range for is refused."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from evhub.carsharing.invoice_lines import trip_charges
from tests.integration.carsharing_hub import CarHub, car_hub, fresh_clock
from tests.integration.ocpp_client import RawStation, connect
from tests.integration.reservations_hub import NOW, StoppedClock
from tests.integration.test_ocpp201_flows import event, meter

H = timedelta(hours=1)
# Zoe: 52 kWh for 300 km; the need carries the default 15 % margin.
KWH_PER_KM = 52 / 300


@pytest.fixture
async def hub(database_url: str) -> AsyncIterator[CarHub]:
    async with car_hub(database_url, fresh_clock()) as live:
        yield live


async def _book(
    hub: CarHub, driver: int, car: int, starts: datetime | None, ends: datetime, km: float
) -> Any:
    body: dict[str, Any] = {"driver_id": driver, "vehicle_id": car, "ends_at": ends.isoformat(),
                            "planned_km": km}  # fmt: skip
    if starts is not None:
        body["starts_at"] = starts.isoformat()
    return await hub.operator.post("/api/v1/carsharing/bookings", json=body)


async def _plug_in(st: RawStation, token: str, soc: float | None = None) -> None:
    started = event(
        "Started", 0, "2026-11-25T10:00:00Z", tx=f"tx-{token}",
        idToken={"idToken": token, "type": "ISO14443"}, evse={"id": 1, "connectorId": 1},
        meterValue=[meter("2026-11-25T10:00:00Z", 0, 0, soc, "Transaction.Begin")],
    )  # fmt: skip
    assert (await st.result("TransactionEvent", started))["idTokenInfo"]["status"] == "Accepted"


async def _tickets(hub: CarHub, cause: str) -> list[dict[str, Any]]:
    async with asyncio.timeout(15):
        while True:
            r = await hub.server.http.get("/api/v1/tickets", params={"cause": cause})
            if r.json():
                return list(r.json())
            await asyncio.sleep(0.05)


async def test_a_car_returned_late_is_charged_for_its_next_booking(hub: CarHub) -> None:
    await hub.server.add_station(
        "CP-HUB", hub.site_id, evses=[{"evse_id": 1, "current_type": "DC", "max_power_kw": 50}]
    )
    zoe = await hub.shared_ev("GE-123-ZO", "ZOE-CARD")
    ada, bo = await hub.add_member("ada"), await hub.add_member("bo")
    first = await _book(hub, ada, zoe, None, NOW + H, 200)
    assert first.status_code == 201, first.text
    second = await _book(hub, bo, zoe, NOW + 5 * H, NOW + 8 * H, 150)
    assert second.status_code == 201 and second.json()["vehicle_id"] == zoe, second.text

    assert (await hub.report(first.json()["id"])).status_code == 201
    hub.clock.current = NOW + timedelta(minutes=2)
    r = await hub.operator.post(f"/api/v1/carsharing/bookings/{first.json()['id']}/start")
    assert r.status_code == 200, r.text
    (await hub.car(zoe)).drive(200.0)
    hub.clock.current = NOW + H + timedelta(minutes=29, seconds=30)  # 30 minutes begun late
    r = await hub.operator.post(f"/api/v1/carsharing/bookings/{first.json()['id']}/end")
    assert r.status_code == 200, r.text
    end_soc = r.json()["end_soc_pct"]
    assert end_soc == pytest.approx(100 / 3, abs=0.01)
    (fee,) = r.json()["booking"]["fees"]
    assert (fee["kind"], Decimal(fee["amount"]), fee["currency"]) == (
        "late_return", Decimal("30.00"), "EUR",
    )  # fmt: skip

    async with connect(hub.server.ws_base, "CP-HUB", "ocpp2.0.1") as st:
        await _plug_in(st, "ZOE-CARD")
        planned = await hub.planned("carsharing")
    held_kwh = 52 * end_soc / 100
    assert planned["remaining_kwh"] == pytest.approx(150 * KWH_PER_KM * 1.15 - held_kwh, abs=0.01)
    assert datetime.fromisoformat(planned["departure"]) == NOW + 5 * H
    assert planned["limit_kw"] > 0

    async with hub.server.app.state.services.uow() as session:
        lines = await trip_charges(session, NOW + 24 * H, ada)
    by_kind = {line.kind: line for line in lines}
    assert set(by_kind) == {"time", "distance", "late_return"}
    assert by_kind["late_return"].amount == Decimal("30.00")
    assert (by_kind["distance"].quantity, by_kind["distance"].amount) == (200, Decimal("50.00"))
    # From 08:02 to 09:29:30: 88 minutes begun, at 9.00 an hour.
    assert (by_kind["time"].quantity, by_kind["time"].amount) == (88, Decimal("13.20"))
    assert all(line.currency == "EUR" and line.vat_pct == Decimal("20.00") for line in lines)
    async with hub.server.app.state.services.uow() as session:
        assert await trip_charges(session, NOW + 24 * H, bo) == []


async def test_a_car_that_cannot_be_charged_in_time_opens_a_ticket(hub: CarHub) -> None:
    await hub.server.add_station(
        "CP-AC", hub.site_id, evses=[{"evse_id": 1, "current_type": "AC", "max_power_kw": 11}]
    )
    zoe = await hub.shared_ev("GE-777-ZO", "ZOE-LOW")
    bo = await hub.add_member("bo")
    r = await _book(hub, bo, zoe, NOW + H, NOW + 4 * H, 250)
    assert r.status_code == 201, r.text
    async with connect(hub.server.ws_base, "CP-AC", "ocpp2.0.1") as st:
        await _plug_in(st, "ZOE-LOW", soc=10.0)  # the meter says the battery is nearly empty
        planned = await hub.planned("carsharing")
        assert planned["remaining_kwh"] == pytest.approx(250 * KWH_PER_KM * 1.15 - 5.2, abs=0.01)
        (ticket,) = await _tickets(hub, "vehicle_not_ready")
    assert (ticket["station_id"], ticket["evse_id"], ticket["state"]) == ("CP-AC", 1, "open")
    assert "GE-777-ZO" in ticket["detail"]


async def test_a_booking_beyond_every_car_range_is_refused(hub: CarHub) -> None:
    zoe = await hub.shared_ev("GE-123-ZO", "ZOE-CARD")
    ada = await hub.add_member("ada")
    r = await _book(hub, ada, zoe, NOW + H, NOW + 6 * H, 400)
    assert r.status_code == 409 and r.json()["reason"] == "range", r.text
    r = await _book(hub, ada, zoe, NOW + H, NOW + 6 * H, 250)
    assert r.status_code == 201, r.text


async def test_a_combustion_car_is_booked_whatever_the_distance(database_url: str) -> None:
    """A combustion car is refuelled on the way: no range check."""
    async with car_hub(database_url, StoppedClock(NOW)) as hub:
        rifter = await hub.add_vehicle(
            {"plate": "FR-1", "make": "P", "model": "R", "propulsion": "combustion",
             "tank_l": 50, "range_km": 100, "seats": 5}
        )  # fmt: skip
        ada = await hub.add_member("ada")
        r = await _book(hub, ada, rifter["id"], NOW + H, NOW + 6 * H, 900)
        assert r.status_code == 201, r.text
