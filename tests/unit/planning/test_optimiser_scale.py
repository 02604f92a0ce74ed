"""The LP planner's merged last stage and coarse blocks: same order of objectives, still safe."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linprog

from evhub.planning import (
    POWER_EPSILON_KW,
    Circuit,
    Plan,
    PlanRequest,
    PlanStatus,
    SessionDemand,
    SiteLimits,
    plan,
)
from evhub.planning.lp_model import build_model, layout
from evhub.planning.optimiser import stage_costs

HOUR = 60.0


def random_request(
    rng: np.random.Generator, n_cars: int, horizon: int, slot_minutes: float, **site: object
) -> PlanRequest:
    arrival = np.where(rng.random(n_cars) < 0.7, 0, rng.integers(1, horizon // 2, n_cars))
    stay = rng.integers(2, horizon + 1, n_cars)
    max_kw = rng.choice([3.7, 7.4, 11.0], n_cars)
    sessions = tuple(
        SessionDemand(
            session_id=f"car-{i}",
            energy_kwh=float(rng.uniform(1.0, 40.0)),
            arrival_slot=int(arrival[i]),
            departure_slot=int(min(arrival[i] + stay[i], horizon + 4)),
            max_power_kw=float(max_kw[i]),
        )
        for i in range(n_cars)
    )
    limits = SiteLimits(capacity_kw=float(0.4 * max_kw.sum()), **site)  # type: ignore[arg-type]
    return PlanRequest(0, slot_minutes, horizon, sessions, limits)


def strict_optima(request: PlanRequest) -> dict[str, float]:
    """The stages solved one by one with each optimum fixed before the next (reference)."""
    lay = layout(request)
    model = build_model(request, lay)
    costs = stage_costs(request, lay)
    matrix = model.matrix.tocsr()
    equal = model.row_lower == model.row_upper
    a_ub = [matrix[~equal], -matrix[~equal]]
    b_ub = [model.row_upper[~equal], -model.row_lower[~equal]]
    keep = np.isfinite(np.concatenate(b_ub))
    a_rows = np.vstack([x.toarray() for x in a_ub])[keep]
    b_rows = np.concatenate(b_ub)[keep]
    bounds = list(zip(model.col_lower, model.col_upper, strict=True))
    optima: dict[str, float] = {}
    for name in ("fairness", "unmet", "cost", "peak", "early"):
        if name not in costs:
            continue
        result = linprog(
            costs[name],
            A_ub=a_rows,
            b_ub=b_rows,
            A_eq=matrix[equal].toarray(),
            b_eq=model.row_upper[equal],
            bounds=bounds,
            method="highs",
        )
        assert result.status == 0, result.message
        optima[name] = float(result.fun)
        a_rows = np.vstack((a_rows, costs[name]))
        b_rows = np.append(b_rows, optima[name] + 1e-7 + 1e-7 * abs(optima[name]))
    return optima


def assert_within_limits(request: PlanRequest, result: Plan) -> None:
    power = result.power_kw
    capacity = request.site.capacity_per_slot_kw(request.horizon_slots)
    assert (power.sum(axis=0) <= capacity + POWER_EPSILON_KW).all()
    lo, hi = request.windows()
    for i, session in enumerate(request.sessions):
        assert (power[i] >= -POWER_EPSILON_KW).all()
        assert (power[i] <= session.max_power_kw + POWER_EPSILON_KW).all()
        assert np.abs(power[i, : lo[i]]).max(initial=0.0) <= POWER_EPSILON_KW
        assert np.abs(power[i, hi[i] :]).max(initial=0.0) <= POWER_EPSILON_KW
        assert result.delivered_energy_kwh()[i] <= session.energy_kwh + 1e-5
    for circuit in request.site.circuits:
        rows = [result.session_ids.index(s) for s in circuit.session_ids]
        assert (power[rows].sum(axis=0) <= circuit.capacity_kw + POWER_EPSILON_KW).all()


@pytest.mark.parametrize("seed", range(6))
def test_the_merged_last_stage_matches_the_strict_order_of_peak_then_earliness(seed: int) -> None:
    rng = np.random.default_rng(seed)
    prices = tuple(float(p) for p in rng.choice([1.0, 2.0], 24)) if seed % 2 else ()
    request = random_request(rng, 8, 24, 30.0)
    request = PlanRequest(0, 30.0, 24, request.sessions, request.site, prices)

    result = plan(request)
    reference = strict_optima(request)

    assert result.status is PlanStatus.OPTIMAL
    for name, value in reference.items():
        assert result.detail[name] == pytest.approx(value, rel=1e-5, abs=1e-5), name


def test_needs_come_first_then_cheap_slots_then_a_flat_peak() -> None:
    # 30 kWh needed, the cheap hours hold 20: the other 10 go to the dear hours, 5 kW in each.
    cars = (
        SessionDemand("a", 15, 0, 4, 10.0),
        SessionDemand("b", 15, 0, 4, 10.0),
    )
    result = plan(PlanRequest(0, HOUR, 4, cars, SiteLimits(10.0), (1.0, 1.0, 3.0, 3.0)))

    np.testing.assert_allclose(result.unmet_energy_kwh, [0, 0], atol=1e-5)
    np.testing.assert_allclose(result.site_power_kw(), [10, 10, 5, 5], atol=1e-5)
    assert result.detail["cost"] == pytest.approx(50.0, abs=1e-4)


def test_a_thousand_cars_are_planned_optimally_in_coarse_blocks() -> None:
    """How fast is `benchmarks/planning_step.py`'s to say; here, that the plan is right."""
    request = random_request(np.random.default_rng(7), 1000, 96, 15.0)

    result = plan(request)

    assert result.status is PlanStatus.OPTIMAL
    assert layout(request).coarse
    assert_within_limits(request, result)


@pytest.mark.parametrize("seed", range(8))
def test_coarse_blocks_respect_every_slot_and_never_beat_exact_blocks(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    overrides = tuple(float(x) for x in rng.choice([np.nan, 8.0, 20.0], 48))
    base = random_request(rng, 12, 48, 5.0, capacity_override_kw=overrides)
    members = frozenset(s.session_id for s in base.sessions[:5])
    site = SiteLimits(base.site.capacity_kw, overrides, (Circuit("feeder", 12.0, members),))
    prices = tuple(float(p) for p in rng.uniform(0.1, 0.4, 48))
    request = PlanRequest(0, 5.0, 48, base.sessions, site, prices)
    exact = plan(request)
    assert not layout(request).coarse

    coarse = plan(request, max_exact_columns=0)

    assert layout(request, 0).coarse
    assert coarse.status is PlanStatus.OPTIMAL
    assert_within_limits(request, coarse)
    assert coarse.detail["fairness"] >= exact.detail["fairness"] - 1e-6


def test_vehicle_to_grid_keeps_exact_blocks() -> None:
    store = SessionDemand("v2g", 0.0, 0, 8, 5.0, v2g_max_discharge_kw=5.0)
    request = PlanRequest(0, 5.0, 48, (store,), SiteLimits(20.0))

    assert not layout(request, 0).coarse
