"""The operator's vehicle-to-grid choice for a hub's shared cars: off until turned on, a default
floor, the drivers' rule on a floor, and a plugged shared car's need carrying the hub's consent
and floor with its next booking's energy as target."""

from __future__ import annotations

from datetime import timedelta

import pytest

from evhub.carsharing import bookings, fleet, v2x
from evhub.carsharing.bookings import CarRequest
from evhub.carsharing.service import FleetCharging
from evhub.errors import InvalidInput, NotFound
from evhub.planning.demand import PluggedVehicle
from evhub.planning.v2x_needs import DriverV2x
from tests.unit.carsharing.conftest import NOW, POLICY, Fleet

H = timedelta(hours=1)
WANT_KWH = 200 * 52.0 / 300.0 * 1.15  # 200 km in a Zoe, with the 15 % margin


async def _plugged_need(cars: Fleet) -> DriverV2x | None:
    async with cars.uow() as s:
        plugged = PluggedVehicle(7, "ZOE-CARD", "CP-HUB", 1, 50.0, 0.0, 60.0)
        (need,) = (await FleetCharging(POLICY)(s, [plugged], NOW)).values()
    return need.v2x


async def test_a_hubs_cars_are_charge_only_until_the_operator_turns_v2g_on(cars: Fleet) -> None:
    async with cars.uow() as s:
        car = await fleet.get_vehicle(s, cars.ev_id, lock=True)
        car.charging_token_uid = "ZOE-CARD"
    async with cars.uow() as s:
        await bookings.book(s, CarRequest(cars.ada, cars.ev_id, NOW + 4 * H, NOW + H, 200),
                            NOW, POLICY)  # fmt: skip
    target = pytest.approx(100 * WANT_KWH / 52.0)
    off = await _plugged_need(cars)
    assert off is not None and off.consent is False
    assert (off.min_soc_pct, off.target_soc_pct) == (POLICY.v2g_min_soc_pct, target)

    async with cars.uow() as s:
        hub = await v2x.save_hub_v2x(s, cars.site_id, True, 30.0, NOW, POLICY)
    assert (hub.consent, hub.min_soc_pct, hub.own_floor) == (True, 30.0, True)
    (changed,) = await cars.published("carsharing.v2x_settings_changed")
    assert changed.data["site_id"] == cars.site_id
    assert await _plugged_need(cars) == DriverV2x(True, 30.0, target)

    async with cars.uow() as s:  # no floor of its own: the default again
        hub = await v2x.save_hub_v2x(s, cars.site_id, True, None, NOW, POLICY)
    assert (hub.min_soc_pct, hub.own_floor) == (POLICY.v2g_min_soc_pct, False)
    async with cars.uow() as s:  # another hub keeps its own (default) choice
        other = await v2x.hub_v2x(s, cars.other_site_id, POLICY)
    assert other.consent is False


async def test_a_floor_outside_a_battery_or_an_unknown_hub_is_refused(cars: Fleet) -> None:
    for floor in (-1.0, 100.5):
        with pytest.raises(InvalidInput):
            async with cars.uow() as s:
                await v2x.save_hub_v2x(s, cars.site_id, True, floor, NOW, POLICY)
    with pytest.raises(NotFound):
        async with cars.uow() as s:
            await v2x.save_hub_v2x(s, 999_999, True, 30.0, NOW, POLICY)
    assert await cars.published("carsharing.v2x_settings_changed") == []
