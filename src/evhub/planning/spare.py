"""What a plan leaves of the site's capacity, shared among the cars that can still take it.

A need is what a car must get, not what it may get: a driver who typed 10 kWh and whose car still
draws after them wants the rest too, and energy costs the same in every slot when the request
carries no price, no demand charge and no discharge. The lexicographic LP plans each car's need
only, so capacity it leaves unused while cars could draw is lost: in the Caltech replay with the
drivers' declared values (`evhub bench planning --declared`, four months at 20 kW), 745 kWh were
left idle beside a car that could have taken them (`benchmarks/RESULTS.md`). Each slot's spare
capacity, up to the plan's own peak (never above it, nor above the site's or a circuit's
capacity), is shared out equally among the cars plugged in whose maximum power the plan leaves
room under (water-filling), as an offer on top of the plan (`Plan.spare_kw`): the plan itself
still never exceeds a need. A car that is full takes nothing: the live planner caps a car
drawing less than its limit near its draw (`live.tapering_cap_kw`), the replay caps a full car
at 0.
"""

from __future__ import annotations

import math

import numpy as np

from evhub.planning.lp_model import circuit_members
from evhub.planning.model import FloatArray, PlanRequest


def shares_spare(request: PlanRequest) -> bool:
    """True when energy is worth the same in every slot: no price spread, wear or peak charge."""
    prices = request.price_per_kwh[: request.horizon_slots]
    spread = bool(prices) and max(prices) > min(prices)
    discharge = any(s.v2g_max_discharge_kw > 0 for s in request.sessions)
    return not (spread or discharge or request.demand_charge_per_kw > 0)


def spare_kw(request: PlanRequest, power_kw: FloatArray) -> FloatArray:
    """What each session may draw on top of `power_kw`: each slot's spare capacity, shared.

    Only sessions with `SessionDemand.takes_spare` and no battery ceiling of their own (V2X
    bounds) take part; the site's draw never rises above the plan's peak (or the peak floor).
    """
    if not request.sessions or not shares_spare(request):
        return np.zeros_like(power_kw)
    lo, hi = request.windows()
    horizon = request.horizon_slots
    taking = np.array(
        [s.takes_spare and math.isinf(s.battery_room_kwh) for s in request.sessions], dtype=bool
    )
    slots = np.arange(horizon)
    present = taking[:, None] & (lo[:, None] <= slots) & (slots < hi[:, None])
    max_kw = np.array([s.max_power_kw for s in request.sessions], dtype=np.float64)
    room = np.where(present, np.maximum(max_kw[:, None] - power_kw, 0.0), 0.0)
    site_kw = power_kw.sum(axis=0)
    level = max(request.site.peak_floor_kw, float(site_kw.max(initial=0.0)))
    budget = np.minimum(request.site.capacity_per_slot_kw(horizon), level) - site_kw
    if request.site.circuits:
        _within_circuits(request, power_kw, room)
    return _water_fill_columns(room, np.maximum(budget, 0.0))


def _water_fill_columns(caps: FloatArray, budget: FloatArray) -> FloatArray:
    """Share each column's budget equally among its rows, none above its cap (max-min fair)."""
    n = caps.shape[0]
    ordered = np.sort(caps, axis=0)
    spent = np.cumsum(ordered, axis=0) - ordered
    levels = (budget[None, :] - spent) / (n - np.arange(n))[:, None]
    first = np.argmax(levels <= ordered, axis=0)
    level = np.maximum(levels[first, np.arange(caps.shape[1])], 0.0)
    shared = np.minimum(caps, level[None, :])
    return np.where(caps.sum(axis=0) <= budget, caps, shared)


def _within_circuits(request: PlanRequest, power_kw: FloatArray, room: FloatArray) -> None:
    """Tighten `room` in place so that no circuit's share exceeds what its capacity leaves."""
    for rows, limit_kw in circuit_members(request):
        if rows.size:
            left = np.maximum(limit_kw - power_kw[rows].sum(axis=0), 0.0)
            room[rows] = _water_fill_columns(room[rows], left)


__all__ = ["spare_kw", "shares_spare"]
