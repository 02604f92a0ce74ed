"""Sorting heuristics with the planner's interface, after the ACN baselines.

Each heuristic walks the horizon slot by slot, as if re-run every slot with the vehicles' needs
and departures taken at face value: it sorts the vehicles that still need energy, then fills the
slot's capacity greedily in that order, each vehicle up to its maximum power (`rr` shares the
capacity equally instead, water-filling up to each maximum). `uncontrolled` gives every vehicle its
maximum and ignores every limit (the baseline of an unmanaged site). All the others never exceed
the site's or a circuit's capacity. Minimum powers are granted first, in the same order, as far as
the limits allow. Discharging (V2G) is never used here.
"""

from __future__ import annotations

import time

import numpy as np
import numpy.typing as npt

from evhub.planning.model import FloatArray, Plan, PlanRequest, PlanStatus, empty_plan

HEURISTICS = ("llf", "edf", "fcfs", "rr", "uncontrolled")

_ENERGY_EPSILON_KWH = 1e-9

IntArray = npt.NDArray[np.int64]
CircuitRooms = list[tuple[float, IntArray]]


class _SlotState:
    """What a heuristic knows about the sessions of one request while it walks the horizon."""

    def __init__(self, request: PlanRequest) -> None:
        sessions = request.sessions
        self.request = request
        self.slot_hours = request.slot_hours
        self.lo, self.hi = request.windows()
        self.max_kw = np.array([s.max_power_kw for s in sessions], dtype=np.float64)
        self.floor_kw = request.floors_kw()
        self.arrival = np.array([s.arrival_slot for s in sessions], dtype=np.float64)
        self.need_kwh = np.array([s.energy_kwh for s in sessions], dtype=np.float64)
        self.remaining_kwh = self.need_kwh.copy()
        self.capacity_kw = request.site.capacity_per_slot_kw(request.horizon_slots)
        index = {s.session_id: i for i, s in enumerate(sessions)}
        self.circuits: CircuitRooms = [
            (c.capacity_kw, _members(c.session_ids, index)) for c in request.site.circuits
        ]

    def active(self, k: int) -> IntArray:
        mask = (self.lo <= k) & (k < self.hi) & (self.remaining_kwh > _ENERGY_EPSILON_KWH)
        return np.flatnonzero(mask).astype(np.int64)

    def headroom_kw(self, idx: IntArray) -> FloatArray:
        """The most each vehicle can take in this slot: its maximum, capped by its need."""
        return np.minimum(self.max_kw[idx], self.remaining_kwh[idx] / self.slot_hours)


def _members(session_ids: frozenset[str], index: dict[str, int]) -> IntArray:
    """Row numbers of a circuit's sessions that are part of the request."""
    return np.array(sorted(index[x] for x in session_ids if x in index), dtype=np.int64)


def _laxity(state: _SlotState, idx: IntArray, k: int) -> FloatArray:
    rate = np.maximum(state.max_kw[idx] * state.slot_hours, 1e-12)
    return (state.hi[idx] - k) - state.remaining_kwh[idx] / rate


def _order(algorithm: str, state: _SlotState, idx: IntArray, k: int) -> IntArray:
    """The active sessions in priority order (ties broken by departure, then input order)."""
    if algorithm == "llf":
        key = _laxity(state, idx, k)
    elif algorithm == "edf":
        key = state.hi[idx].astype(np.float64)
    else:
        key = state.arrival[idx]
    order = np.lexsort((idx, state.hi[idx], key))
    return idx[order]


def _greedy(caps: FloatArray, budget_kw: float) -> FloatArray:
    """Fill `budget_kw` in order, each entry up to its cap."""
    before = np.concatenate(([0.0], np.cumsum(caps)[:-1]))
    return np.clip(budget_kw - before, 0.0, caps)


def _water_fill(caps: FloatArray, budget_kw: float) -> FloatArray:
    """Share `budget_kw` equally, no entry above its cap (max-min fair split)."""
    if caps.size == 0 or caps.sum() <= budget_kw:
        return caps.copy()
    sorted_caps = np.sort(caps)
    n = caps.size
    spent = np.concatenate(([0.0], np.cumsum(sorted_caps)[:-1]))
    # Level if the j smallest are saturated and the rest share what is left.
    levels = (budget_kw - spent) / (n - np.arange(n))
    j = int(np.argmax(levels <= sorted_caps))
    return np.minimum(caps, max(levels[j], 0.0))


def _ordered_fill(
    circuits: CircuitRooms, order: IntArray, caps: FloatArray, budget: float
) -> FloatArray:
    """Greedy fill in `order` within the site budget and every circuit's remaining room."""
    if not circuits:
        return _greedy(caps, budget)
    room = [cap for cap, _ in circuits]
    out = np.zeros_like(caps)
    for pos, session in enumerate(order):
        inside = [j for j, (_, members) in enumerate(circuits) if session in members]
        give = max(min(caps[pos], budget, *(room[j] for j in inside)), 0.0)
        out[pos] = give
        budget -= give
        for j in inside:
            room[j] -= give
    return out


def _fair_fill(
    circuits: CircuitRooms, order: IntArray, caps: FloatArray, budget: float
) -> FloatArray:
    """Equal shares: within each circuit first (tightening caps), then across the site."""
    caps = caps.copy()
    for cap, members in circuits:
        inside = np.flatnonzero(np.isin(order, members))
        caps[inside] = _water_fill(caps[inside], cap)
    return _water_fill(caps, budget)


def _rooms_after(circuits: CircuitRooms, order: IntArray, given: FloatArray) -> CircuitRooms:
    """The circuits' capacities left once `given` (aligned with `order`) is drawn."""
    return [(cap - float(given[np.isin(order, m)].sum()), m) for cap, m in circuits]


def _allocate_slot(algorithm: str, state: _SlotState, k: int) -> tuple[IntArray, FloatArray]:
    idx = state.active(k)
    caps = state.headroom_kw(idx)
    if algorithm == "uncontrolled" or idx.size == 0:
        return idx, caps
    budget = float(state.capacity_kw[k])
    order = _order("llf" if algorithm == "rr" else algorithm, state, idx, k)
    caps = caps[np.searchsorted(idx, order)]
    floors = np.minimum(state.floor_kw[order], caps)
    base = _ordered_fill(state.circuits, order, floors, budget)
    rooms = _rooms_after(state.circuits, order, base)
    fill = _fair_fill if algorithm == "rr" else _ordered_fill
    extra = fill(rooms, order, caps - base, budget - float(base.sum()))
    return order, base + extra


def plan_with_heuristic(request: PlanRequest, algorithm: str = "llf") -> Plan:
    """Schedule the horizon with one of `HEURISTICS`; never raises on a well-formed request."""
    if algorithm not in HEURISTICS:
        raise ValueError(f"unknown heuristic {algorithm!r}; expected one of {HEURISTICS}")
    started = time.perf_counter()
    if not request.sessions:
        return empty_plan(request, algorithm, PlanStatus.HEURISTIC)
    state = _SlotState(request)
    power = np.zeros((len(request.sessions), request.horizon_slots), dtype=np.float64)
    last = int(state.hi.max(initial=0))
    for k in range(int(state.lo.min(initial=0)), last):
        idx, kw = _allocate_slot(algorithm, state, k)
        if idx.size == 0:
            continue
        power[idx, k] = kw
        state.remaining_kwh[idx] = np.maximum(state.remaining_kwh[idx] - kw * state.slot_hours, 0.0)
    return Plan(
        session_ids=tuple(s.session_id for s in request.sessions),
        start_slot=request.start_slot,
        slot_minutes=request.slot_minutes,
        power_kw=power,
        unmet_energy_kwh=state.remaining_kwh,
        solve_ms=(time.perf_counter() - started) * 1000.0,
        status=PlanStatus.HEURISTIC,
        algorithm=algorithm,
    )
