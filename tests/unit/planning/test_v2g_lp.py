"""The LP's V2G guarantees: the battery floor and ceiling at every slot, the target at departure,
import and export limits, the batteries' wear and the demand charge in the cost stage."""

from __future__ import annotations

import numpy as np
import pytest

from evhub.planning import PlanRequest, SessionDemand, SiteLimits, plan

QUARTER = 15.0


def v2g_car(
    sid: str, need: float, depart: int, *, floor_room: float, room: float = 100.0, eta: float = 1.0
) -> SessionDemand:
    return SessionDemand(
        session_id=sid,
        energy_kwh=need,
        arrival_slot=0,
        departure_slot=depart,
        max_power_kw=8.0,
        v2g_max_discharge_kw=8.0,
        efficiency=eta,
        battery_room_kwh=room,
        discharge_room_kwh=floor_room,
    )


def battery_path(power: np.ndarray, eta: float, hours: float) -> np.ndarray:
    """The battery's energy relative to now at the end of each slot."""
    stored = np.where(power > 0, power * eta, power / eta) * hours
    return np.asarray(np.cumsum(stored, axis=-1))


def test_the_battery_never_falls_below_its_floor_and_meets_its_target() -> None:
    # dear first hour, cheap second: the car sells what it can and buys it back
    prices = (0.30,) * 4 + (0.05,) * 4
    car = v2g_car("a", 3.0, 8, floor_room=2.0, eta=0.9)
    result = plan(PlanRequest(0, QUARTER, 8, (car,), SiteLimits(50.0), prices))

    path = battery_path(result.power_kw[0], 0.9, 0.25)
    assert path.min() == pytest.approx(-2.0, abs=1e-6)  # down to the floor, not below
    assert path.min() >= -2.0 - 1e-6
    assert path[-1] == pytest.approx(3.0, abs=1e-6)  # the target at departure
    assert (result.power_kw[0, :4] < 0).any()


def test_the_battery_never_rises_above_full_on_the_way() -> None:
    # cheap first, dear in the middle, cheap again: without the ceiling it would buy 6 kWh first
    prices = (0.01,) * 2 + (0.50,) * 2 + (0.01,) * 2
    car = v2g_car("a", 0.0, 6, floor_room=10.0, room=1.0)
    result = plan(PlanRequest(0, QUARTER, 6, (car,), SiteLimits(50.0), prices))

    path = battery_path(result.power_kw[0], 1.0, 0.25)
    assert path.max() <= 1.0 + 1e-6
    assert path.max() == pytest.approx(1.0, abs=1e-6)
    assert path[-1] == pytest.approx(0.0, abs=1e-6)


def test_import_and_export_each_stay_within_the_site_limit() -> None:
    prices = (0.40,) * 4 + (0.02,) * 4
    cars = tuple(v2g_car(f"c{k}", 1.0, 8, floor_room=20.0) for k in range(3))
    result = plan(PlanRequest(0, QUARTER, 8, cars, SiteLimits(10.0), prices))

    draw = np.clip(result.power_kw, 0, None).sum(axis=0)
    feed = np.clip(-result.power_kw, 0, None).sum(axis=0)
    assert draw.max() <= 10.0 + 1e-6
    assert feed.max() <= 10.0 + 1e-6
    assert feed[:4].max() == pytest.approx(10.0, abs=1e-6)  # the export limit binds
    np.testing.assert_allclose(battery_path(result.power_kw, 1.0, 0.25)[:, -1], 1.0, atol=1e-6)


def test_wear_dearer_than_the_spread_keeps_the_battery_out_of_the_market() -> None:
    prices = (0.20,) * 4 + (0.10,) * 4
    car = v2g_car("a", 1.0, 8, floor_room=10.0)
    cheap_wear = plan(PlanRequest(0, QUARTER, 8, (car,), SiteLimits(50.0), prices, 0.05))
    dear_wear = plan(PlanRequest(0, QUARTER, 8, (car,), SiteLimits(50.0), prices, 0.15))

    assert cheap_wear.power_kw.min() < -1.0
    assert dear_wear.power_kw.min() >= -1e-9


def test_a_demand_charge_lowers_the_peak_at_the_price_of_dearer_energy() -> None:
    prices = (0.10,) * 2 + (0.12,) * 6
    car = SessionDemand("a", 8.0, 0, 8, max_power_kw=16.0)
    flat = plan(PlanRequest(0, QUARTER, 8, (car,), SiteLimits(50.0), prices))
    charged = plan(
        PlanRequest(0, QUARTER, 8, (car,), SiteLimits(50.0), prices, demand_charge_per_kw=1.0)
    )

    assert flat.power_kw.max() == pytest.approx(16.0, abs=1e-3)  # cheapest: all in two slots
    assert charged.power_kw.max() == pytest.approx(4.0, abs=1e-3)  # 8 kWh over 2 h
    assert charged.delivered_energy_kwh()[0] == pytest.approx(8.0, abs=1e-5)


def test_a_surplus_above_the_need_may_be_sold_and_no_more() -> None:
    prices = (0.30,) * 4 + (0.10,) * 4
    held = SessionDemand(
        "a", 0.0, 0, 8, 8.0, v2g_max_discharge_kw=8.0, battery_room_kwh=5.0,
        discharge_room_kwh=10.0, surplus_kwh=3.0,
    )  # fmt: skip
    result = plan(PlanRequest(0, QUARTER, 8, (held,), SiteLimits(50.0), prices))

    path = battery_path(result.power_kw[0], 1.0, 0.25)
    # sells down to its floor while dear, buys back while cheap, and ends its surplus lighter
    assert path.min() == pytest.approx(-8.0, abs=1e-5)  # 4 slots at 8 kW, above the floor (-10)
    assert path[-1] == pytest.approx(-3.0, abs=1e-5)


def test_a_negative_price_fills_the_battery_beyond_its_need_but_not_beyond_full() -> None:
    prices = (-0.05,) * 4
    car = v2g_car("a", 1.0, 4, floor_room=0.0, room=3.0)
    result = plan(PlanRequest(0, QUARTER, 4, (car,), SiteLimits(50.0), prices))

    assert result.delivered_energy_kwh()[0] == pytest.approx(3.0, abs=1e-5)
