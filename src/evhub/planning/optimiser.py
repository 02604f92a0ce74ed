"""The smart-charging linear programme (see `lp_model`), solved with HiGHS.

Objective, lexicographic, by sequential solves on one HiGHS instance: each stage re-solves from the
previous optimal basis after fixing the previous optimum (within a small tolerance) as a bound:
  1. fairness  minimise z (the largest fraction of a need left unmet)
  2. unmet     minimise sum u (the total energy left unmet)
  3. cost      minimise sum price * h * (p - d) + wear * h * d / eta + demand charge * P
               the energy bought (exports earn the same price), the batteries' wear and the
               peak's demand charge; only when one of them can change with the plan
  4. shape     minimise W * P + sum w[i, b] * h[i, b] * p (+ h * d)
               the peak P (bounded below by the site's peak floor) first, then energy as soon as
               possible, where w[i, b] = (slot - arrival + 1) / stay of session i (earliest within
               each stay, at the middle of the block's slots)

Stage 4 merges the peak and as-soon-as-possible objectives of a strict order into one solve with
the peak's weight `W = PEAK_WEIGHT_PER_HOUR * horizon hours`: one more kW of peak lets at most
`horizon hours` kWh move to an earlier slot, each move gaining a weight difference below 1, so W
exceeds any gain of the second objective per kW of peak by a wide margin (chains of moves between
sessions included) while every coefficient stays within a few orders of magnitude of the others.
When the site already stays within its peak floor, the peak is fixed first and stage 4 only
shapes the energy.

Stages after the first start from the previous stage's basis with dual simplex and no presolve
(presolve would discard the basis).
"""

from __future__ import annotations

import time
from dataclasses import replace

import highspy
import numpy as np

from evhub.planning.heuristics import plan_with_heuristic
from evhub.planning.lp_model import (
    EXACT_COLUMN_BUDGET,
    INF,
    Layout,
    Model,
    battery_gain,
    build_model,
    layout,
    powers_kw,
    site_peak_kw,
    stays,
)
from evhub.planning.model import (
    POWER_EPSILON_KW,
    FloatArray,
    InfeasibleError,
    Plan,
    PlanRequest,
    PlanStatus,
    empty_plan,
)
from evhub.planning.spare import spare_kw

DEFAULT_TIME_LIMIT_S = 10.0
PEAK_WEIGHT_PER_HOUR = 100.0
"""Weight of one kW of peak against the as-soon-as-possible term, per hour of horizon."""
_REL_TOLERANCE = 1e-7
_ABS_TOLERANCE = 1e-7
_DUAL_SIMPLEX = 1
_NEED_FITS_KWH = 1e-7


class _StageTimeout(Exception):
    """A stage stopped before optimality (time limit or solver trouble)."""


class _StagedSolver:
    """One HiGHS instance walked through the lexicographic stages, each from the last basis."""

    def __init__(self, model: Model, lay: Layout, time_limit_s: float) -> None:
        self.lay = lay
        self.col_lower = model.col_lower
        self.partial_targets = model.partial_targets
        self.deadline = time.perf_counter() + time_limit_s
        self.highs = highspy.Highs()  # type: ignore[no-untyped-call]
        self.highs.setOptionValue("output_flag", False)
        self.highs.setOptionValue("threads", 1)
        self.highs.setOptionValue("simplex_strategy", _DUAL_SIMPLEX)
        m = model.matrix
        status = self.highs.passModel(
            lay.n_cols,
            m.shape[0],
            m.nnz,
            int(highspy.MatrixFormat.kColwise),
            int(highspy.ObjSense.kMinimize),
            0.0,
            np.zeros(lay.n_cols),
            model.col_lower,
            model.col_upper,
            model.row_lower,
            model.row_upper,
            m.indptr.astype(np.int32),
            m.indices.astype(np.int32),
            m.data.astype(np.float64),
            np.zeros(lay.n_cols, dtype=np.int32),
        )
        if status == highspy.HighsStatus.kError:
            raise _StageTimeout(f"model rejected: {status}")
        self.solution: FloatArray | None = None

    def run(self, name: str, cost: FloatArray) -> float:
        """Minimise `cost` over the current model; returns the optimum.

        The first stage runs presolve; later stages only change the objective or tighten a bound
        the current vertex satisfies, so they start from its basis without presolve.
        """
        remaining = self.deadline - time.perf_counter()
        if remaining <= 0:
            raise _StageTimeout(name)
        first = self.solution is None
        self.highs.setOptionValue("presolve", "choose" if first else "off")
        self.highs.setOptionValue("time_limit", remaining)
        self.highs.changeColsCost(
            cost.size, np.arange(cost.size, dtype=np.int32), cost.astype(np.float64)
        )
        self.highs.run()
        status = self.highs.getModelStatus()
        if first and status != highspy.HighsModelStatus.kOptimal:
            # HiGHS presolve can report a feasible LP infeasible (ERGO-Code/HiGHS#2511): retry
            # without it before believing the verdict.
            self.highs.setOptionValue("presolve", "off")
            self.highs.clearSolver()
            self.highs.run()
            status = self.highs.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible and first:
            raise InfeasibleError("minimum powers exceed the site or a circuit limit")
        if status != highspy.HighsModelStatus.kOptimal:
            raise _StageTimeout(f"{name}: {self.highs.modelStatusToString(status)}")
        self.solution = np.array(self.highs.getSolution().col_value, dtype=np.float64)
        return float(self.highs.getInfo().objective_function_value)

    def fix_every_need_met(self) -> None:
        """Bound z and every unmet energy to 0 (stages 1 and 2 at their known optimum)."""
        lay = self.lay
        cols = np.append(np.arange(lay.u0, lay.u0 + lay.n_sessions), lay.z).astype(np.int32)
        zeros = np.zeros(cols.size)
        self.highs.changeColsBounds(cols.size, cols, zeros, zeros)

    def cap_column(self, col: int, optimum: float) -> None:
        """Bound column `col` above by its optimum plus tolerance."""
        self.highs.changeColBounds(col, float(self.col_lower[col]), _relaxed(optimum))

    def cap_sum(self, cost: FloatArray, optimum: float) -> None:
        """Add the row `cost . x <= optimum + tolerance`."""
        idx = np.flatnonzero(cost).astype(np.int32)
        self.highs.addRows(
            1,
            np.array([-INF]),
            np.array([_relaxed(optimum)]),
            idx.size,
            np.array([0], dtype=np.int32),
            idx,
            cost[idx].astype(np.float64),
        )


def _relaxed(optimum: float) -> float:
    return optimum + _ABS_TOLERANCE + _REL_TOLERANCE * abs(optimum)


def stage_costs(request: PlanRequest, lay: Layout) -> dict[str, FloatArray]:
    """The objective of each criterion, in lexicographic order (cost only when prices differ)."""
    dt, n_cols = request.slot_hours, lay.n_cols
    costs = {name: np.zeros(n_cols) for name in ("fairness", "unmet", "cost", "peak", "early")}
    costs["fairness"][lay.z] = 1.0
    costs["unmet"][lay.u0 : lay.u0 + lay.n_sessions] = 1.0
    prices = np.asarray(request.price_per_kwh[: lay.horizon], dtype=np.float64)
    priced = False
    if prices.size and (np.ptp(prices) > 0 or lay.n_state):
        cumulative = np.concatenate(([0.0], np.cumsum(prices)))
        spent = cumulative[lay.col_first + lay.col_slots] - cumulative[lay.col_first]
        costs["cost"][: lay.n_power] = dt * spent * lay.col_sign
        priced = True
    if lay.n_state and request.degradation_per_kwh > 0:
        # each kWh fed to the grid takes 1 / eta kWh out of the battery, each costing the wear
        taken = -battery_gain(request, lay)[lay.n_charge :]
        wear = request.degradation_per_kwh * dt * lay.col_slots[lay.n_charge :] * taken
        costs["cost"][lay.n_charge : lay.n_power] += wear
        priced = True
    if request.demand_charge_per_kw > 0:
        costs["cost"][lay.peak] = request.demand_charge_per_kw
        priced = True
    if not priced:
        del costs["cost"]
    costs["peak"][lay.peak] = 1.0
    weight = np.where(lay.col_sign > 0, _earliness(request, lay), 1.0)
    costs["early"][: lay.n_power] = dt * lay.col_slots * weight
    return costs


def _earliness(request: PlanRequest, lay: Layout) -> FloatArray:
    """Weight of each power column in the last stage: how far into its session's stay it lies.

    Measured relative to each stay, so that among vehicles that could all be served, the one
    leaving sooner is served first (the least-laxity idea): what is left for later is then what
    vehicles staying longer can still absorb when new arrivals compete for the capacity.
    A session whose departure is not known (`SessionDemand.departure_known`) is measured against
    its slack instead (`_scale_slots`).
    """
    lo, _ = request.windows()
    middle = lay.col_first + (lay.col_slots - 1) / 2.0
    position = middle - lo[lay.col_session] + 1.0
    return np.asarray(position / _scale_slots(request)[lay.col_session], dtype=np.float64)


def _scale_slots(request: PlanRequest) -> FloatArray:
    """Each session's stay, or for a guessed departure its slack, in slots (at least 1).

    With declared departures (ACN-Data's drivers: a fifth leave before the time they typed), the
    stay-relative order lets a car declaring a long stay wait, and what it was to get later is
    lost when it leaves early; ordering it by slack gave 0.3-0.4 pp more energy at 20-30 kW in
    the replay (`benchmarks/RESULTS.md`). A known departure keeps the stay-relative order, which
    meets more needs in full when the departure is true.
    """
    stay = stays(request)
    sessions = request.sessions
    guessed = np.array([not s.departure_known for s in sessions], dtype=bool)
    if not guessed.any():
        return np.maximum(stay, 1.0)
    need = np.array([s.energy_kwh / s.efficiency for s in sessions], dtype=np.float64)
    rate = np.array([s.max_power_kw for s in sessions], dtype=np.float64) * request.slot_hours
    slack = stay - np.divide(need, rate, out=np.zeros_like(need), where=rate > 0)
    return np.maximum(np.where(guessed, slack, stay), 1.0)


def _solve_stages(
    solver: _StagedSolver,
    request: PlanRequest,
    costs: dict[str, FloatArray],
    optima: dict[str, float],
) -> None:
    """Run the stages in order, fixing each optimum before the next; fills `optima`.

    The unmet stage is skipped when no need is left unmet (the current vertex is optimal for it).
    """
    lay = solver.lay
    shortcut = lay.n_state > 0 and not (lay.coarse or solver.partial_targets)
    if shortcut and _every_need_fits(request):
        # V2G: stages 1 and 2 are known to be 0: fix them and start with the next stage (kept
        # to V2G requests, whose first stages cost most; elsewhere the stages' vertices stay)
        solver.fix_every_need_met()
        optima["fairness"] = optima["unmet"] = 0.0
    else:
        optima["fairness"] = solver.run("fairness", costs["fairness"])
        solver.cap_column(lay.z, optima["fairness"])
        if optima["fairness"] <= _ABS_TOLERANCE and not solver.partial_targets:
            optima["unmet"] = float(costs["unmet"] @ _solution(solver))
        else:
            optima["unmet"] = solver.run("unmet", costs["unmet"])
            solver.cap_sum(costs["unmet"], optima["unmet"])
    if "cost" in costs:
        optima["cost"] = solver.run("cost", costs["cost"])
        solver.cap_sum(costs["cost"], optima["cost"])
    floor = float(solver.col_lower[lay.peak])
    if solver.solution is not None and site_peak_kw(lay, solver.solution) <= floor + _ABS_TOLERANCE:
        solver.cap_column(lay.peak, floor)  # the floor is reached: the peak is optimal already
    weight = PEAK_WEIGHT_PER_HOUR * lay.horizon * request.slot_hours
    solver.run("shape", weight * costs["peak"] + costs["early"])
    x = _solution(solver)
    optima["peak"] = max(floor, site_peak_kw(lay, x))
    optima["early"] = float(costs["early"] @ x)


def _every_need_fits(request: PlanRequest) -> bool:
    """True when least-laxity-first, charging only, meets every need within the horizon.

    Its schedule keeps every limit slot by slot, so averaged over each exact block it is a point
    of the LP with z = 0 and u = 0: the first two stages' optima are then known without solving
    them (the costliest solves of a large request). Needs are raised to grid energy (need / eta)
    for the heuristic, which ignores efficiency; a need above the battery's room cannot be met.
    """
    sessions = request.sessions
    if any(s.energy_kwh > s.battery_room_kwh for s in sessions):
        return False
    grid = tuple(replace(s, energy_kwh=s.energy_kwh / s.efficiency) for s in sessions)
    heuristic = plan_with_heuristic(replace(request, sessions=grid), "llf")
    return bool((heuristic.unmet_energy_kwh <= _NEED_FITS_KWH).all())


def _solution(solver: _StagedSolver) -> FloatArray:
    if solver.solution is None:
        raise _StageTimeout("no solution")
    return solver.solution


def plan(
    request: PlanRequest,
    warm_start: Plan | None = None,
    *,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    max_exact_columns: int | None = EXACT_COLUMN_BUDGET,
) -> Plan:
    """Schedule the request with the lexicographic LP.

    The capacity the plan leaves unused is offered to the cars that can still take it
    (`Plan.spare_kw`, see `spare`) when energy is worth the same in every slot.
    Falls back to least-laxity-first (status `fallback`) when the solver fails or the first stage
    runs out of time; a later stage running out of time keeps the earlier stages' plan (status
    `partial`). Raises `InfeasibleError` when minimum powers cannot fit the limits.
    Beyond `max_exact_columns` power columns, the horizon after the first hour is planned over
    coarse blocks (`lp_model.Layout`); None keeps exact blocks whatever the size (e.g. for an
    offline bound). `warm_start` is accepted for interface stability; each call builds a fresh
    model (the horizon moves between re-plans) and hot-starts every stage after the first from the
    previous basis.
    """
    del warm_start
    started = time.perf_counter()
    if not request.sessions:
        return empty_plan(request, "lp", PlanStatus.OPTIMAL)
    lay = layout(request, max_exact_columns)
    solver = _StagedSolver(build_model(request, lay), lay, time_limit_s)
    status = PlanStatus.OPTIMAL
    optima: dict[str, float] = {}
    try:
        _solve_stages(solver, request, stage_costs(request, lay), optima)
    except _StageTimeout:
        status = PlanStatus.PARTIAL
    if solver.solution is None:
        power, status = plan_with_heuristic(request, "llf").power_kw, PlanStatus.FALLBACK
        optima = {}
    else:
        power = powers_kw(request, lay, solver.solution)
    return replace(
        _finish(request, power, started, status, optima), spare_kw=spare_kw(request, power)
    )


def _finish(
    request: PlanRequest,
    power: FloatArray,
    started: float,
    status: PlanStatus,
    optima: dict[str, float],
) -> Plan:
    need = np.array([s.energy_kwh for s in request.sessions], dtype=np.float64)
    eta = np.array([s.efficiency for s in request.sessions], dtype=np.float64)[:, None]
    stored = np.where(power > 0, power * eta, power / eta)
    delivered = stored.sum(axis=1) * request.slot_hours
    return Plan(
        session_ids=tuple(s.session_id for s in request.sessions),
        start_slot=request.start_slot,
        slot_minutes=request.slot_minutes,
        power_kw=power,
        unmet_energy_kwh=np.maximum(need - delivered, 0.0),
        solve_ms=(time.perf_counter() - started) * 1000.0,
        status=status,
        algorithm="lp" if status is not PlanStatus.FALLBACK else "llf",
        detail=optima,
    )


__all__ = ["DEFAULT_TIME_LIMIT_S", "POWER_EPSILON_KW", "plan"]
