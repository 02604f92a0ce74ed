"""The smart-charging linear programme, solved with HiGHS.

Variables (one column each, only where a session may charge): `p[i, k]` power of session i in
horizon slot k; for V2G sessions also `d[i, k]`, the discharge power; `u[i]` energy missing at the
end of the horizon; `z` the largest missing fraction; `P` the site peak.

Named constraint groups:
  peak       sum_i p[i, k] - d[i, k] - P <= 0                  every slot (P <= site capacity)
  capacity   sum_i p[i, k] - d[i, k] <= capacity[k]            slots with a lowered capacity (and
                                                               >= -capacity[k] when V2G is in use)
  circuit    sum_{i in c} p[i, k] - d[i, k] <= circuit limit    every circuit and slot
  energy     dt * sum_k (p[i, k] - d[i, k]) + u[i] = need[i]    so delivered <= need
  fairness   u[i] - need[i] * z <= need[i] - target[i]          target < need only for a stay
                                                               that runs past the horizon

Objective, lexicographic, by sequential solves on one HiGHS instance: each stage re-solves from the
previous optimal basis after fixing the previous optimum (within a small tolerance) as a bound:
  1. fairness  minimise z (the largest fraction of a need left unmet)
  2. unmet     minimise sum u (the total energy left unmet)
  3. cost      minimise sum price[k] * dt * (p - d)            only when prices differ
  4. peak      minimise P (bounded below by the site's peak floor)
  5. early     minimise sum w[i, k] * dt * p (+ dt * d)        energy as soon as possible, where
               w[i, k] = (k - arrival + 1) / stay of session i     (earliest within each stay)
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import highspy
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from evhub.planning.heuristics import plan_with_heuristic
from evhub.planning.model import (
    POWER_EPSILON_KW,
    FloatArray,
    InfeasibleError,
    Plan,
    PlanRequest,
    PlanStatus,
    empty_plan,
)

IntArray = npt.NDArray[np.int64]

DEFAULT_TIME_LIMIT_S = 10.0
EXACT_LEAD_MINUTES = 60.0
"""The first hour of the horizon keeps one block per slot, so that the as-soon-as-possible
stage shapes it exactly (a later block gets a flat profile)."""
_INF = highspy.kHighsInf
_REL_TOLERANCE = 1e-7
_ABS_TOLERANCE = 1e-7


@dataclass(frozen=True, slots=True)
class _Layout:
    """Column numbering of one request's LP over blocks of identical slots.

    Slots between two consecutive events (an arrival, a departure, a change of capacity or price)
    are interchangeable for every constraint and for stages 1-4, so the LP gives each block one
    power column per session (its constant power there); averaging any schedule over such a block
    keeps it feasible with the same stage 1-4 values, so the optima are exact. Slot 0 (the one
    about to be dispatched) and the slots of the first `EXACT_LEAD_MINUTES` are blocks of their own.
    """

    n_sessions: int
    horizon: int
    block_start: IntArray
    block_len: IntArray
    col_session: IntArray  # session of each power column (charge then discharge)
    col_block: IntArray  # block of each power column
    col_sign: FloatArray  # +1 charge, -1 discharge
    u0: int  # first unmet-energy column
    z: int
    peak: int

    @property
    def n_blocks(self) -> int:
        return int(self.block_start.size)

    @property
    def n_power(self) -> int:
        return int(self.col_session.size)

    @property
    def n_cols(self) -> int:
        return self.peak + 1


def _blocks(request: PlanRequest, lo: IntArray, hi: IntArray) -> IntArray:
    """Start slots of the blocks: every slot where something changes."""
    horizon = request.horizon_slots
    capacity = request.site.capacity_per_slot_kw(horizon)
    lead = max(1, math.ceil(EXACT_LEAD_MINUTES / request.slot_minutes))
    cuts = [np.arange(lead + 1), np.array([horizon]), lo, hi, np.flatnonzero(np.diff(capacity)) + 1]
    if request.price_per_kwh:
        prices = np.asarray(request.price_per_kwh[:horizon], dtype=np.float64)
        cuts.append(np.flatnonzero(np.diff(prices)) + 1)
    starts = np.unique(np.concatenate(cuts).astype(np.int64))
    return starts[starts < horizon]


def _power_columns(lo: IntArray, hi: IntArray) -> tuple[IntArray, IntArray]:
    length = hi - lo
    session = np.repeat(np.arange(lo.size, dtype=np.int64), length)
    offsets = np.concatenate(([0], np.cumsum(length)[:-1])).astype(np.int64)
    block = lo[session] + (np.arange(session.size, dtype=np.int64) - offsets[session])
    return session, block


def _layout(request: PlanRequest) -> _Layout:
    lo, hi = request.windows()
    starts = _blocks(request, lo, hi)
    blo = np.searchsorted(starts, lo).astype(np.int64)
    bhi = np.searchsorted(starts, hi).astype(np.int64)
    c_sess, c_block = _power_columns(blo, bhi)
    v2g = np.array([s.v2g_max_discharge_kw > 0 for s in request.sessions])
    d_sess, d_block = _power_columns(blo[v2g], bhi[v2g])
    d_sess = np.flatnonzero(v2g).astype(np.int64)[d_sess]
    n_power = c_sess.size + d_sess.size
    n = len(request.sessions)
    return _Layout(
        n_sessions=n,
        horizon=request.horizon_slots,
        block_start=starts,
        block_len=np.diff(np.append(starts, request.horizon_slots)).astype(np.int64),
        col_session=np.concatenate((c_sess, d_sess)),
        col_block=np.concatenate((c_block, d_block)),
        col_sign=np.concatenate((np.ones(c_sess.size), -np.ones(d_sess.size))),
        u0=n_power,
        z=n_power + n,
        peak=n_power + n + 1,
    )


@dataclass(frozen=True, slots=True)
class _Model:
    partial_targets: bool  # some stay runs past the horizon: its unmet energy may exceed z * need
    col_lower: FloatArray
    col_upper: FloatArray
    row_lower: FloatArray
    row_upper: FloatArray
    matrix: sp.csc_array


def _column_bounds(
    request: PlanRequest, lay: _Layout, capacity: FloatArray
) -> tuple[FloatArray, FloatArray]:
    sessions = request.sessions
    max_kw = np.array([s.max_power_kw for s in sessions], dtype=np.float64)
    v2g_kw = np.array([s.v2g_max_discharge_kw for s in sessions], dtype=np.float64)
    floors = request.floors_kw()
    charge = lay.col_sign > 0
    lower = np.zeros(lay.n_cols)
    upper = np.full(lay.n_cols, _INF)
    lower[: lay.n_power] = np.where(charge, floors[lay.col_session], 0.0)
    upper[: lay.n_power] = np.where(charge, max_kw[lay.col_session], v2g_kw[lay.col_session])
    cap_max = float(capacity.max())
    upper[lay.z] = 1.0
    lower[lay.peak] = min(request.site.peak_floor_kw, cap_max)
    upper[lay.peak] = cap_max
    return lower, upper


def _build_model(request: PlanRequest, lay: _Layout) -> _Model:
    """Assemble the constraint matrix (CSC) and bounds of the named constraint groups."""
    n, nb, dt = lay.n_sessions, lay.n_blocks, request.slot_hours
    capacity = request.site.capacity_per_slot_kw(lay.horizon)[lay.block_start]
    has_v2g = bool((lay.col_sign < 0).any())
    cols = np.arange(lay.n_power, dtype=np.int64)
    parts: list[tuple[IntArray, IntArray, FloatArray]] = []
    lower: list[FloatArray] = []
    upper: list[FloatArray] = []

    def group(r: IntArray, c: IntArray, v: FloatArray, lo: FloatArray, hi: FloatArray) -> None:
        parts.append((r + sum(x.size for x in lower), c, v))
        lower.append(lo)
        upper.append(hi)

    # peak: power columns, then -P on every block row
    blocks = np.arange(nb, dtype=np.int64)
    group(
        np.concatenate((lay.col_block, blocks)),
        np.concatenate((cols, np.full(nb, lay.peak))),
        np.concatenate((lay.col_sign, -np.ones(nb))),
        np.full(nb, -_INF), np.zeros(nb),
    )
    # capacity: only blocks whose capacity is below the peak's bound (all when V2G may export)
    cap_blocks = blocks if has_v2g else np.flatnonzero(capacity < capacity.max())
    if cap_blocks.size:
        row_of = np.full(nb, -1)
        row_of[cap_blocks] = np.arange(cap_blocks.size)
        sel = row_of[lay.col_block] >= 0
        low = -capacity[cap_blocks] if has_v2g else np.full(cap_blocks.size, -_INF)
        group(row_of[lay.col_block[sel]], cols[sel], lay.col_sign[sel], low, capacity[cap_blocks])
    for members, limit_kw in _circuit_members(request):
        sel = np.isin(lay.col_session, members)
        limit = np.full(nb, limit_kw)
        low = -limit if has_v2g else np.full(nb, -_INF)
        group(lay.col_block[sel], cols[sel], lay.col_sign[sel], low, limit)
    # energy: dt * sum(p - d) + u = need
    need = np.array([s.energy_kwh for s in request.sessions], dtype=np.float64)
    sessions = np.arange(n, dtype=np.int64)
    group(
        np.concatenate((lay.col_session, sessions)),
        np.concatenate((cols, lay.u0 + sessions)),
        np.concatenate((dt * lay.block_len[lay.col_block] * lay.col_sign, np.ones(n))),
        need, need,
    )
    # fairness: u - need * z <= need - target
    beyond = need - _targets(request, need)
    group(
        np.concatenate((sessions, sessions)),
        np.concatenate((lay.u0 + sessions, np.full(n, lay.z))),
        np.concatenate((np.ones(n), -need)),
        np.full(n, -_INF), beyond,
    )
    rows, columns, values = (np.concatenate(x) for x in zip(*parts, strict=True))
    matrix = sp.csc_array((values, (rows, columns)), shape=(int(rows.max()) + 1, lay.n_cols))
    col_lower, col_upper = _column_bounds(request, lay, capacity)
    return _Model(
        bool((beyond > 0).any()), col_lower, col_upper, np.concatenate(lower),
        np.concatenate(upper), matrix,
    )


def _circuit_members(request: PlanRequest) -> list[tuple[IntArray, float]]:
    """Each circuit's sessions (row numbers among the request's sessions) and its limit."""
    index = {s.session_id: i for i, s in enumerate(request.sessions)}
    return [
        (np.array(sorted(index[x] for x in c.session_ids if x in index), dtype=np.int64),
         c.capacity_kw)
        for c in request.site.circuits
    ]


def _targets(request: PlanRequest, need: FloatArray) -> FloatArray:
    """The share of each need due within the horizon (pro rata of the stay's slots in it)."""
    lo, hi = request.windows()
    stay = np.array(
        [s.departure_slot - max(s.arrival_slot, request.start_slot) for s in request.sessions],
        dtype=np.float64,
    )
    share = np.divide(hi - lo, stay, out=np.ones_like(stay), where=stay > 0)
    return np.asarray(need * np.minimum(share, 1.0), dtype=np.float64)


class _StageTimeout(Exception):
    """A stage stopped before optimality (time limit or solver trouble)."""


class _StagedSolver:
    """One HiGHS instance walked through the lexicographic stages, each from the last basis."""

    def __init__(self, model: _Model, lay: _Layout, time_limit_s: float) -> None:
        self.lay = lay
        self.col_lower = model.col_lower
        self.partial_targets = model.partial_targets
        self.deadline = time.perf_counter() + time_limit_s
        self.highs = highspy.Highs()  # type: ignore[no-untyped-call]
        self.highs.setOptionValue("output_flag", False)
        self.highs.setOptionValue("threads", 1)
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
        self.stages_done: list[str] = []

    def run(self, name: str, cost: FloatArray) -> float:
        """Minimise `cost` over the current model; returns the optimum.

        The first stage runs presolve and dual simplex from scratch; later stages only change the
        objective or tighten a bound the current vertex satisfies, so they start from its basis
        with primal simplex and no presolve (presolve would discard the basis).
        """
        remaining = self.deadline - time.perf_counter()
        if remaining <= 0:
            raise _StageTimeout(name)
        first = self.solution is None
        self.highs.setOptionValue("presolve", "choose" if first else "off")
        self.highs.setOptionValue("simplex_strategy", 1 if first else 4)
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
        self.stages_done.append(name)
        return float(self.highs.getInfo().objective_function_value)

    def cap_column(self, col: int, optimum: float) -> None:
        """Bound column `col` above by its optimum plus tolerance."""
        self.highs.changeColBounds(col, float(self.col_lower[col]), _relaxed(optimum))

    def cap_sum(self, cost: FloatArray, optimum: float) -> None:
        """Add the row `cost . x <= optimum + tolerance`."""
        idx = np.flatnonzero(cost).astype(np.int32)
        self.highs.addRows(
            1,
            np.array([-_INF]),
            np.array([_relaxed(optimum)]),
            idx.size,
            np.array([0], dtype=np.int32),
            idx,
            cost[idx].astype(np.float64),
        )


def _relaxed(optimum: float) -> float:
    return optimum + _ABS_TOLERANCE + _REL_TOLERANCE * abs(optimum)


def _stage_costs(request: PlanRequest, lay: _Layout) -> list[tuple[str, FloatArray]]:
    """The objective of each lexicographic stage, in order."""
    dt, n_cols = request.slot_hours, lay.n_cols
    fairness = np.zeros(n_cols)
    fairness[lay.z] = 1.0
    unmet = np.zeros(n_cols)
    unmet[lay.u0 : lay.u0 + lay.n_sessions] = 1.0
    stages = [("fairness", fairness), ("unmet", unmet)]
    prices = np.asarray(request.price_per_kwh[: lay.horizon], dtype=np.float64)
    hours = dt * lay.block_len[lay.col_block]
    if prices.size and np.ptp(prices) > 0:
        cost = np.zeros(n_cols)
        cost[: lay.n_power] = prices[lay.block_start][lay.col_block] * hours * lay.col_sign
        stages.append(("cost", cost))
    peak = np.zeros(n_cols)
    peak[lay.peak] = 1.0
    stages.append(("peak", peak))
    early = np.zeros(n_cols)
    early[: lay.n_power] = hours * np.where(lay.col_sign > 0, _earliness(request, lay), 1.0)
    stages.append(("early", early))
    return stages


def _earliness(request: PlanRequest, lay: _Layout) -> FloatArray:
    """Weight of each power column in the last stage: how far into its session's stay it lies.

    Measured relative to each stay, so that among vehicles that could all be served, the one
    leaving sooner is served first (the least-laxity idea): what is left for later is then what
    vehicles staying longer can still absorb when new arrivals compete for the capacity.
    """
    lo, _ = request.windows()
    stay = np.array(
        [s.departure_slot - max(s.arrival_slot, request.start_slot) for s in request.sessions],
        dtype=np.float64,
    )
    middle = lay.block_start + (lay.block_len - 1) / 2.0
    position = middle[lay.col_block] - lo[lay.col_session] + 1.0
    return np.asarray(position / np.maximum(stay[lay.col_session], 1.0), dtype=np.float64)


def _solve_stages(solver: _StagedSolver, stages: list[tuple[str, FloatArray]]) -> dict[str, float]:
    """Run the stages in order, fixing each optimum before the next; returns the optima.

    A stage is skipped when the current vertex is provably optimal for it: the total unmet energy
    when no need is left unmet, the peak when the site already stays within the peak floor.
    """
    lay = solver.lay
    optima: dict[str, float] = {}
    for position, (name, cost) in enumerate(stages):
        if solver.solution is not None and _already_optimal(name, solver, optima):
            value = float(cost @ solver.solution)
            if name == "peak":  # P itself is free above the site's power: report the bound
                value = max(float(solver.col_lower[lay.peak]), _site_peak(lay, solver.solution))
            optima[name] = value
        else:
            optima[name] = solver.run(name, cost)
        if position == len(stages) - 1:
            break
        if name == "fairness":
            solver.cap_column(lay.z, optima[name])
        elif name == "peak":
            solver.cap_column(lay.peak, max(optima[name], _site_peak(lay, solver.solution)))
        elif name != "unmet" or not _already_optimal(name, solver, optima):
            solver.cap_sum(cost, optima[name])
    return optima


def _already_optimal(name: str, solver: _StagedSolver, optima: dict[str, float]) -> bool:
    if name == "unmet":
        return optima["fairness"] <= _ABS_TOLERANCE and not solver.partial_targets
    if name == "peak":
        floor = float(solver.col_lower[solver.lay.peak])
        return _site_peak(solver.lay, solver.solution) <= floor + _ABS_TOLERANCE
    return False


def _site_peak(lay: _Layout, x: FloatArray | None) -> float:
    """The highest total power of the blocks under solution `x`."""
    if x is None:
        return _INF
    per_block = np.bincount(lay.col_block, lay.col_sign * x[: lay.n_power], lay.n_blocks)
    return float(per_block.max(initial=0.0))


def _powers(request: PlanRequest, lay: _Layout, x: FloatArray) -> FloatArray:
    """The power matrix of a solution, clipped to the limits it may exceed by round-off."""
    per_block = np.zeros((lay.n_sessions, lay.n_blocks), dtype=np.float64)
    np.add.at(per_block, (lay.col_session, lay.col_block), lay.col_sign * x[: lay.n_power])
    power = np.repeat(per_block, lay.block_len, axis=1)
    power[np.abs(power) < 1e-9] = 0.0
    capacity = request.site.capacity_per_slot_kw(lay.horizon)
    _scale_down(power, np.arange(lay.n_sessions), capacity)
    for members, limit_kw in _circuit_members(request):
        _scale_down(power, members, np.full(lay.horizon, limit_kw))
    return power


def _scale_down(power: FloatArray, members: IntArray, limit_kw: FloatArray) -> None:
    """Shrink the slots where `members` draw more than `limit_kw` (solver tolerance) in place."""
    if members.size == 0:
        return
    total = power[members].sum(axis=0)
    over = total > limit_kw
    if over.any():
        factor = np.where(over, limit_kw / np.where(over, total, 1.0), 1.0)
        power[np.ix_(members, np.flatnonzero(over))] *= factor[over]


def plan(
    request: PlanRequest,
    warm_start: Plan | None = None,
    *,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
) -> Plan:
    """Schedule the request with the lexicographic LP.

    Falls back to least-laxity-first (status `fallback`) when the solver fails or the first stage
    runs out of time; a later stage running out of time keeps the earlier stages' plan (status
    `partial`). Raises `InfeasibleError` when minimum powers cannot fit the limits.
    `warm_start` is accepted for interface stability; each call builds a fresh model (the horizon
    moves between re-plans) and hot-starts every stage after the first from the previous basis.
    """
    del warm_start
    started = time.perf_counter()
    if not request.sessions:
        return empty_plan(request, "lp", PlanStatus.OPTIMAL)
    lay = _layout(request)
    solver = _StagedSolver(_build_model(request, lay), lay, time_limit_s)
    stages = _stage_costs(request, lay)
    status = PlanStatus.OPTIMAL
    optima: dict[str, float] = {}
    try:
        optima = _solve_stages(solver, stages)
    except _StageTimeout:
        status = PlanStatus.PARTIAL
    if solver.solution is None:
        fallback = plan_with_heuristic(request, "llf")
        return _finish(request, fallback.power_kw, started, PlanStatus.FALLBACK, {})
    power = _powers(request, lay, solver.solution)
    return _finish(request, power, started, status, optima)


def _finish(
    request: PlanRequest,
    power: FloatArray,
    started: float,
    status: PlanStatus,
    optima: dict[str, float],
) -> Plan:
    need = np.array([s.energy_kwh for s in request.sessions], dtype=np.float64)
    delivered = power.sum(axis=1) * request.slot_hours
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
