"""The sorting baselines: who is served first, and how the capacity is shared."""

from __future__ import annotations

import numpy as np
import pytest

from evhub.planning import HEURISTICS, PlanRequest, SessionDemand, SiteLimits, plan_with_heuristic

HOUR = 60.0


def slot0(algorithm: str, *sessions: SessionDemand, capacity_kw: float) -> list[float]:
    request = PlanRequest(0, HOUR, 6, sessions, SiteLimits(capacity_kw))
    return [float(x) for x in plan_with_heuristic(request, algorithm).power_kw[:, 0]]


# Three cars, room for one at a time (10 kW each, site 10 kW):
#   "early"  arrived first, leaves at 6, needs 10 kWh (laxity 6 - 1 = 5 h)
#   "urgent" leaves at 3, needs 20 kWh (laxity 3 - 2 = 1 h)
#   "soon"   leaves at 2, needs 10 kWh (laxity 2 - 1 = 1 h... ties broken by departure)
CARS = (
    SessionDemand("early", 10, -2, 6, 10),
    SessionDemand("urgent", 20, -1, 3, 10),
    SessionDemand("soon", 10, 0, 2, 10),
)


def test_least_laxity_first_serves_the_tightest_car() -> None:
    assert slot0("llf", *CARS, capacity_kw=10) == [0, 0, 10]


def test_earliest_deadline_first_serves_the_car_leaving_first() -> None:
    assert slot0("edf", *CARS, capacity_kw=10) == [0, 0, 10]


def test_first_come_first_served_serves_the_first_arrival() -> None:
    assert slot0("fcfs", *CARS, capacity_kw=10) == [10, 0, 0]


def test_llf_and_edf_differ_when_the_deadline_is_not_the_tightest() -> None:
    cars = (SessionDemand("big", 30, 0, 4, 10), SessionDemand("small", 1, 0, 2, 10))

    assert slot0("llf", *cars, capacity_kw=10) == [10, 0]
    assert slot0("edf", *cars, capacity_kw=10) == [9, 1]


def test_round_robin_shares_equally_and_passes_on_what_a_car_cannot_take() -> None:
    cars = (
        SessionDemand("a", 50, 0, 6, 2),
        SessionDemand("b", 50, 0, 6, 10),
        SessionDemand("c", 50, 0, 6, 10),
    )

    assert slot0("rr", *cars, capacity_kw=12) == pytest.approx([2, 5, 5])


def test_uncontrolled_charges_everyone_at_full_power_over_the_limit() -> None:
    cars = (SessionDemand("a", 50, 0, 6, 7), SessionDemand("b", 50, 0, 6, 7))

    assert slot0("uncontrolled", *cars, capacity_kw=10) == [7, 7]


def test_a_car_stops_at_its_need_and_frees_the_capacity() -> None:
    cars = (SessionDemand("a", 5, 0, 6, 10), SessionDemand("b", 50, 0, 6, 10))
    request = PlanRequest(0, HOUR, 6, cars, SiteLimits(10))

    result = plan_with_heuristic(request, "llf")

    np.testing.assert_allclose(result.delivered_energy_kwh(), [5, 50], atol=1e-9)
    np.testing.assert_allclose(result.unmet_energy_kwh, [0, 0], atol=1e-9)


def test_minimum_powers_are_granted_first() -> None:
    cars = (
        SessionDemand("a", 50, 0, 6, 10),
        SessionDemand("b", 50, 0, 6, 10, min_power_kw=4),
    )

    # LLF order puts "a" and "b" level; "b" gets its 4 kW floor before "a" fills the rest.
    row = slot0("llf", *cars, capacity_kw=10)
    assert row[1] >= 4
    assert sum(row) == pytest.approx(10)


def test_an_unknown_heuristic_is_refused() -> None:
    request = PlanRequest(0, HOUR, 1, (), SiteLimits(10))

    with pytest.raises(ValueError, match="unknown heuristic"):
        plan_with_heuristic(request, "random")
    assert "llf" in HEURISTICS
