"""The LP planner on cases small enough to solve by hand (1-hour slots: kW and kWh coincide)."""

from __future__ import annotations

import numpy as np
import pytest

from evhub.planning import (
    POWER_EPSILON_KW,
    Circuit,
    InfeasibleError,
    PlanRequest,
    PlanStatus,
    SessionDemand,
    SiteLimits,
    plan,
)

HOUR = 60.0


def car(
    session_id: str,
    energy_kwh: float,
    arrival: int,
    departure: int,
    max_kw: float = 11.0,
    min_power_kw: float = 0.0,
    v2g_max_discharge_kw: float = 0.0,
) -> SessionDemand:
    return SessionDemand(
        session_id,
        energy_kwh,
        arrival,
        departure,
        max_kw,
        min_power_kw=min_power_kw,
        v2g_max_discharge_kw=v2g_max_discharge_kw,
    )


def request(
    *sessions: SessionDemand, capacity_kw: float, horizon: int = 4, **extra: object
) -> PlanRequest:
    site = SiteLimits(capacity_kw=capacity_kw, **extra)  # type: ignore[arg-type]
    return PlanRequest(0, HOUR, horizon, sessions, site)


def test_two_cars_sharing_a_limit_both_get_their_need() -> None:
    result = plan(request(car("a", 10, 0, 2), car("b", 10, 0, 2), capacity_kw=10, horizon=2))

    assert result.status is PlanStatus.OPTIMAL
    np.testing.assert_allclose(result.delivered_energy_kwh(), [10, 10], atol=1e-5)
    np.testing.assert_allclose(result.unmet_energy_kwh, [0, 0], atol=1e-5)
    assert result.site_power_kw().max() <= 10 + POWER_EPSILON_KW


def test_shortfall_is_shared_as_an_equal_fraction_of_each_need() -> None:
    # 4 h x 6 kW = 24 kWh for needs of 10 and 20 kWh: both miss 20 %.
    result = plan(request(car("a", 10, 0, 4), car("b", 20, 0, 4), capacity_kw=6))

    np.testing.assert_allclose(result.unmet_energy_kwh, [2, 4], atol=1e-4)
    assert result.detail["fairness"] == pytest.approx(0.2, abs=1e-6)


def test_a_need_beyond_the_charger_is_capped_and_the_rest_still_met() -> None:
    # "a" can take at most 2 h x 3 kW = 6 of its 10 kWh; "b" is served fully.
    result = plan(request(car("a", 10, 0, 2, max_kw=3), car("b", 8, 0, 4), capacity_kw=20))

    np.testing.assert_allclose(result.delivered_energy_kwh(), [6, 8], atol=1e-4)


def test_energy_moves_to_the_cheap_slots() -> None:
    prices = (3.0, 1.0, 2.0, 1.0)
    cars = (car("a", 10, 0, 4), car("b", 10, 0, 4))
    result = plan(PlanRequest(0, HOUR, 4, cars, SiteLimits(20), prices))

    site = result.site_power_kw()
    np.testing.assert_allclose(site[[0, 2]], [0, 0], atol=1e-5)
    assert site[[1, 3]].sum() == pytest.approx(20, abs=1e-4)
    assert result.detail["cost"] == pytest.approx(20, abs=1e-4)


def test_the_peak_is_flattened_above_the_floor_only() -> None:
    flat = plan(request(car("a", 8, 0, 4), capacity_kw=20))
    asap = plan(request(car("a", 8, 0, 4), capacity_kw=20, peak_floor_kw=20.0))

    np.testing.assert_allclose(flat.power_kw[0], [2, 2, 2, 2], atol=1e-5)
    np.testing.assert_allclose(asap.power_kw[0], [8, 0, 0, 0], atol=1e-5)


def test_the_vehicle_leaving_first_is_served_first() -> None:
    # Only one can charge at a time; both can be met only if "soon" goes first.
    result = plan(
        request(
            car("soon", 10, 0, 1, max_kw=10),
            car("late", 10, 0, 4, max_kw=10),
            capacity_kw=10,
            peak_floor_kw=10.0,
        )
    )

    np.testing.assert_allclose(result.power_kw[:, 0], [10, 0], atol=1e-5)
    np.testing.assert_allclose(result.unmet_energy_kwh, [0, 0], atol=1e-5)


def test_power_freed_by_a_tapering_car_goes_to_the_others_on_replan() -> None:
    # "a" leaves after the first hour and takes about half of it; then its battery tapers to 1 kW.
    others = [car("b", 40, 0, 4), car("c", 40, 0, 4)]
    before = plan(request(car("a", 11, 0, 1), *others, capacity_kw=21, peak_floor_kw=21.0))
    after = plan(
        request(car("a", 11, 0, 1, max_kw=1.0), *others, capacity_kw=21, peak_floor_kw=21.0)
    )

    assert before.power_kw[0, 0] > 9.0
    assert after.power_kw[0, 0] == pytest.approx(1.0, abs=1e-5)
    assert after.power_kw[1:, 0].sum() == pytest.approx(20.0, abs=1e-4)
    assert after.power_kw[1:, 0].sum() > before.power_kw[1:, 0].sum() + 8.0


def test_a_circuit_limit_holds_inside_the_site_limit() -> None:
    feeder = Circuit("feeder-1", 5.0, frozenset({"a", "b"}))
    result = plan(
        request(
            car("a", 10, 0, 4),
            car("b", 10, 0, 4),
            car("c", 10, 0, 4),
            capacity_kw=30,
            circuits=(feeder,),
        )
    )

    assert result.power_kw[:2].sum(axis=0).max() <= 5 + POWER_EPSILON_KW
    np.testing.assert_allclose(result.unmet_energy_kwh, [0, 0, 0], atol=1e-4)


def test_a_lowered_capacity_slot_is_respected() -> None:
    result = plan(
        request(car("a", 30, 0, 4), capacity_kw=11, capacity_override_kw=(float("nan"), 2.0))
    )

    # 11 + 2 + 11 + 11 = 35 kWh available for a need of 30.
    assert result.site_power_kw()[1] <= 2 + POWER_EPSILON_KW
    assert result.delivered_energy_kwh()[0] == pytest.approx(30, abs=1e-4)


def test_minimum_powers_above_the_limit_are_infeasible() -> None:
    # Each minimum is lowered to 10 kWh / 4 h = 2.5 kW; together 5 kW > 4 kW.
    cars = (car("a", 10, 0, 4, min_power_kw=4.0), car("b", 10, 0, 4, min_power_kw=4.0))

    with pytest.raises(InfeasibleError):
        plan(request(*cars, capacity_kw=4))


def test_vehicle_to_grid_discharges_in_the_dear_slot_and_ends_no_emptier() -> None:
    store = car("v2g", 0.0, 0, 2, max_kw=5, v2g_max_discharge_kw=5.0)
    result = plan(PlanRequest(0, HOUR, 2, (store,), SiteLimits(20), (3.0, 1.0)))

    np.testing.assert_allclose(result.power_kw[0], [-5, 5], atol=1e-5)
    assert result.delivered_energy_kwh()[0] == pytest.approx(0, abs=1e-5)


def test_a_stay_beyond_the_horizon_is_still_charged_when_capacity_is_free() -> None:
    result = plan(
        request(car("long", 20, 0, 40, max_kw=5), capacity_kw=20, horizon=4, peak_floor_kw=20.0)
    )

    np.testing.assert_allclose(result.power_kw[0], [5, 5, 5, 5], atol=1e-5)


def test_no_sessions_give_an_empty_plan() -> None:
    result = plan(request(capacity_kw=10))

    assert result.power_kw.shape == (0, 4)


@pytest.mark.parametrize(("departure_known", "first"), [(True, "short"), (False, "tight")])
def test_a_guessed_departure_orders_energy_by_slack_rather_than_by_stay(
    departure_known: bool, first: str
) -> None:
    # 60 kWh fit exactly in 6 h at 10 kW. "tight" needs 5 of its 6 h (slack 1 h), "short" 1 of
    # its 3 h (slack 2 h): by stay "short" is served first, by slack "tight" is
    tight = SessionDemand("tight", 50, 0, 6, 10, departure_known=departure_known)
    short = SessionDemand("short", 10, 0, 3, 10, departure_known=departure_known)

    result = plan(request(tight, short, capacity_kw=10, horizon=6))

    np.testing.assert_allclose(result.unmet_energy_kwh, [0, 0], atol=1e-5)
    row = result.session_ids.index(first)
    assert result.power_kw[row, 0] == pytest.approx(10.0, abs=1e-5)
