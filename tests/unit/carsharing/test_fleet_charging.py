"""Shared electric cars and their range: the energy a booking needs, a booking moved to a car
of the hub that can have the range in time or refused, the need the planner is given, and one
car per driver at a time held by the database itself."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from evhub.assets import service as assets
from evhub.assets.service import EvseSpec
from evhub.carsharing import bookings, fleet, readiness
from evhub.carsharing.bookings import CarRequest
from evhub.carsharing.errors import RangeUnavailable
from evhub.carsharing.invoice_lines import trip_charges
from evhub.carsharing.models import CarBooking
from evhub.carsharing.service import FleetCharging
from evhub.planning.demand import PluggedVehicle
from tests.unit.carsharing.conftest import ELECTRIC, NOW, POLICY, Fleet

H = timedelta(hours=1)
ZOE_KWH_PER_KM = 52.0 / 300.0


async def _hub_charger(cars: Fleet, kw: float) -> None:
    async with cars.uow() as s:
        await assets.create_station(s, NOW, "CP-HUB", cars.site_id, "a-good-long-password",
                                    [EvseSpec(1, "AC", 3, kw)])  # fmt: skip


async def _set(cars: Fleet, vehicle_id: int, **fields: object) -> None:
    async with cars.uow() as s:
        car = await fleet.get_vehicle(s, vehicle_id, lock=True)
        for name, value in fields.items():
            setattr(car, name, value)


async def _second_ev(cars: Fleet) -> int:
    async with cars.uow() as s:
        spec = replace(ELECTRIC, plate="EV-002-CC", home_site_id=cars.site_id)
        return (await fleet.create_vehicle(s, spec, NOW)).id


async def _book(cars: Fleet, driver: int, car: int, start: datetime, km: float) -> CarBooking:
    async with cars.uow() as s:
        request = CarRequest(driver, car, start + 2 * H, start, km)
        return await bookings.book(s, request, NOW, POLICY)


async def test_the_energy_of_a_distance_has_its_margin_and_the_battery_as_cap(
    cars: Fleet,
) -> None:
    async with cars.uow() as s:
        car = await fleet.get_vehicle(s, cars.ev_id)
        assert readiness.energy_for_km(car, 100, 0.15) == pytest.approx(100 * ZOE_KWH_PER_KM * 1.15)
        assert readiness.energy_for_km(car, 290, 0.15) == 52.0  # capped by the battery
        car.consumption_kwh_per_km = 0.2
        assert readiness.energy_for_km(car, 100, 0.0) == pytest.approx(20.0)


async def test_a_car_that_cannot_have_the_range_in_time_gives_its_booking_to_another(
    cars: Fleet,
) -> None:
    await _hub_charger(cars, 7.0)
    other = await _second_ev(cars)
    await _set(cars, cars.ev_id, soc_pct=5.0)  # 2.6 kWh, +7 kWh in the hour before the start
    booking = await _book(cars, cars.ada, cars.ev_id, NOW + H, 100)  # 19.9 kWh
    assert booking.vehicle_id == other and f"vehicle {cars.ev_id}" in booking.note
    assert booking.planned_km == 100
    published = await cars.published("carsharing.booked")
    assert published[-1].data["asked_vehicle_id"] == cars.ev_id


async def test_a_booking_no_car_of_the_hub_can_have_the_range_for_is_refused(
    cars: Fleet,
) -> None:
    await _hub_charger(cars, 7.0)
    other = await _second_ev(cars)
    await _set(cars, cars.ev_id, soc_pct=5.0)
    await _set(cars, other, soc_pct=5.0)
    with pytest.raises(RangeUnavailable) as refused:
        await _book(cars, cars.ada, cars.ev_id, NOW + H, 100)
    assert refused.value.detail["reason"] == "range"
    # Later, the hub has the time to charge it.
    assert (await _book(cars, cars.ada, cars.ev_id, NOW + 4 * H, 100)).vehicle_id == cars.ev_id


async def test_the_bookings_before_count_against_the_range_of_the_next(cars: Fleet) -> None:
    await _hub_charger(cars, 7.0)
    await _book(cars, cars.ada, cars.ev_id, NOW + H, 250)  # 43.3 kWh of a full battery
    # 8.7 kWh left at its return, 7 kWh more in the hour between: short of 49.8 kWh.
    with pytest.raises(RangeUnavailable):
        await _book(cars, cars.bo, cars.ev_id, NOW + 4 * H, 250)
    assert (await _book(cars, cars.bo, cars.ev_id, NOW + 10 * H, 250)).vehicle_id == cars.ev_id


def _plugged(token: str | None, soc: float | None = None, kw: float = 22.0) -> PluggedVehicle:
    return PluggedVehicle(7, token, "CP-HUB", 1, kw, 2.0, soc)


async def test_a_plugged_shared_car_needs_the_energy_of_its_next_booking(cars: Fleet) -> None:
    await _set(cars, cars.ev_id, charging_token_uid="ZOE-CARD")
    charging = FleetCharging(POLICY)
    async with cars.uow() as s:
        assert await charging(s, [_plugged("ZOE-CARD")], NOW) == {}  # no booking: not wanted
    booking = await _book(cars, cars.ada, cars.ev_id, NOW + 3 * H, 150)
    await _set(cars, cars.ev_id, soc_pct=20.0)  # back from another use, say
    want = 150 * ZOE_KWH_PER_KM * 1.15
    async with cars.uow() as s:
        needs = await charging(s, [_plugged("ZOE-CARD"), _plugged("SOMEONE")], NOW)
        (need,) = needs.values()
        # The unit's reading at the return (10.4 kWh) plus the 2 kWh delivered since.
        assert need.energy_kwh == pytest.approx(want - 10.4 - 2.0, abs=1e-3)
        assert need.departure_at == booking.starts_at and need.battery_kwh == 52.0
        (need,) = (await charging(s, [_plugged("ZOE-CARD", soc=50.0)], NOW)).values()
        assert need.energy_kwh == pytest.approx(want - 26.0, abs=1e-3)  # the meter's SoC
        (need,) = (await charging(s, [_plugged("ZOE-CARD", soc=90.0)], NOW)).values()
        assert need.energy_kwh == 0.0
    assert await cars.published("carsharing.charge_short") == []


async def test_a_car_that_cannot_be_charged_in_time_says_so(cars: Fleet) -> None:
    await _set(cars, cars.ev_id, charging_token_uid="ZOE-CARD")
    booking = await _book(cars, cars.ada, cars.ev_id, NOW + H, 250)
    async with cars.uow() as s:
        await FleetCharging(POLICY)(s, [_plugged("ZOE-CARD", soc=10.0, kw=11.0)], NOW)
    (short,) = await cars.published("carsharing.charge_short")
    assert short.data["booking_id"] == booking.id and short.data["station_id"] == "CP-HUB"
    assert short.data["reachable_kwh"] == 11.0
    assert short.data["needed_kwh"] == pytest.approx(250 * ZOE_KWH_PER_KM * 1.15 - 5.2, abs=1e-3)


async def test_the_database_refuses_a_second_car_for_a_driver_at_the_same_time(
    cars: Fleet,
) -> None:
    other = await _second_ev(cars)
    await _book(cars, cars.ada, cars.ev_id, NOW + H, 50)
    row = CarBooking(
        vehicle_id=other, driver_id=cars.ada, kind="trip", state="booked",
        starts_at=NOW + 2 * H, ends_at=NOW + 4 * H, note="", created_at=NOW, updated_at=NOW,
    )  # fmt: skip
    with pytest.raises(IntegrityError):
        async with cars.uow() as s:
            s.add(row)
            await s.flush()
    async with cars.uow() as s:  # back to back is fine, and so is a cancelled one
        s.add(replace_row(row, NOW + 3 * H, NOW + 5 * H))
        s.add(replace_row(row, NOW + H, NOW + 2 * H, state="cancelled"))


def replace_row(row: CarBooking, starts: datetime, ends: datetime, state: str = "booked"):
    return CarBooking(
        vehicle_id=row.vehicle_id, driver_id=row.driver_id, kind="trip", state=state,
        starts_at=starts, ends_at=ends, note="", created_at=NOW, updated_at=NOW,
    )  # fmt: skip


async def test_a_driver_with_no_trip_has_no_charges(cars: Fleet) -> None:
    async with cars.uow() as s:
        assert await trip_charges(s, NOW + 24 * H, cars.ada) == []
