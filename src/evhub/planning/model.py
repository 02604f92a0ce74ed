"""Value objects of the smart-charging planner: the question (`PlanRequest`), the answer (`Plan`).

Times are slot indices on a fixed grid of `slot_minutes`; a slot range `[start, end)` excludes its
end. Powers are kW, energies kWh. Every object here is immutable and free of I/O so that a plan can
be computed in a worker thread from a snapshot of the site.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

POWER_EPSILON_KW = 1e-6
"""Slack allowed on any power limit when checking a plan (solver round-off)."""


class PlanningError(Exception):
    """Base class of the planner's domain errors."""


class InfeasibleError(PlanningError):
    """The request cannot be honoured: minimum powers exceed a site or circuit limit."""


class PlanStatus(StrEnum):
    OPTIMAL = "optimal"
    """Every stage of the lexicographic objective was solved to optimality."""
    PARTIAL = "partial"
    """The time limit stopped a later stage; the plan is feasible and optimal for earlier stages."""
    FALLBACK = "fallback"
    """The solver failed or ran out of time; the plan comes from least-laxity-first."""
    HEURISTIC = "heuristic"
    """A heuristic was asked for directly."""


@dataclass(frozen=True, slots=True)
class SessionDemand:
    """One connected vehicle as the planner sees it.

    `energy_kwh` is the energy still needed, `arrival_slot`/`departure_slot` bound the slots in
    which the vehicle may charge (`departure_slot` excluded). `min_power_kw` is the lowest rate the
    charger accepts while the vehicle still needs energy (e.g. 6 A under IEC 61851); the planner
    lowers it where honouring it for the whole stay would exceed the need. `v2g_max_discharge_kw`
    allows discharging (vehicle-to-grid) down to minus that power; the net energy still never
    exceeds the need nor drops below zero.

    Battery side (V2G): `efficiency` is the share of drawn energy that reaches the battery, and
    feeding f kW to the grid takes f / efficiency from it; `energy_kwh` is then measured in the
    battery. The battery's energy may rise at most `battery_room_kwh` and fall at most
    `discharge_room_kwh` (down to its floor) below its present level, at every slot of the stay
    (infinite: no such bound, only the net energy over the stay stays within [0, need]).
    With a finite `battery_room_kwh` the battery may also end above its need (up to full: energy
    bought at a negative price is worth keeping), and `surplus_kwh`, energy already stored above
    what the car needs at departure, may be given back: the net energy then lies within
    [need - surplus, room] and only what falls short of `need - surplus` counts as unmet.

    `departure_known` False says the departure is an estimate that is often wrong (a driver's
    guess typed in an app): the LP then orders such a car's energy by its slack (stay minus the
    time its need takes at full power) rather than by its stay, as least-laxity-first does, so that
    less is left to its last hours, which it may not stay for (see `optimiser._earliness`).

    `takes_spare` False keeps a session out of the capacity a plan leaves unused (`spare`): a
    reserved EVSE whose car has not come yet. A car plugged in takes it (its need is what it must
    get, not all it may get).
    """

    session_id: str
    energy_kwh: float
    arrival_slot: int
    departure_slot: int
    max_power_kw: float
    min_power_kw: float = 0.0
    need_source: str = "declared"
    v2g_max_discharge_kw: float = 0.0
    efficiency: float = 1.0
    battery_room_kwh: float = math.inf
    discharge_room_kwh: float = math.inf
    surplus_kwh: float = 0.0
    departure_known: bool = True
    takes_spare: bool = True

    def __post_init__(self) -> None:
        if not self.session_id:
            raise ValueError("session_id must not be empty")
        if self.energy_kwh < 0 or self.max_power_kw < 0 or self.min_power_kw < 0:
            raise ValueError(f"{self.session_id}: energy and powers must be >= 0")
        if self.v2g_max_discharge_kw < 0:
            raise ValueError(f"{self.session_id}: v2g_max_discharge_kw must be >= 0")
        if not 0 < self.efficiency <= 1:
            raise ValueError(f"{self.session_id}: efficiency must be in (0, 1]")
        if self.battery_room_kwh < 0 or self.discharge_room_kwh < 0 or self.surplus_kwh < 0:
            raise ValueError(f"{self.session_id}: battery rooms must be >= 0")
        if self.departure_slot < self.arrival_slot:
            raise ValueError(f"{self.session_id}: departure_slot before arrival_slot")


@dataclass(frozen=True, slots=True)
class Circuit:
    """A group of sessions behind one protective device with its own limit (a feeder, a phase)."""

    name: str
    capacity_kw: float
    session_ids: frozenset[str]

    def __post_init__(self) -> None:
        if self.capacity_kw < 0:
            raise ValueError(f"circuit {self.name}: capacity_kw must be >= 0")


@dataclass(frozen=True, slots=True)
class SiteLimits:
    """The site's import limit, optionally lowered per slot, and its circuits.

    `capacity_override_kw[k]` replaces `capacity_kw` for the k-th slot of the horizon (NaN keeps the
    default). `peak_floor_kw` is the peak already incurred (e.g. in the current demand-charge
    period): flattening below it gains nothing, so the planner only flattens what lies above.
    """

    capacity_kw: float
    capacity_override_kw: tuple[float, ...] = ()
    circuits: tuple[Circuit, ...] = ()
    peak_floor_kw: float = 0.0

    def __post_init__(self) -> None:
        if self.capacity_kw < 0:
            raise ValueError("capacity_kw must be >= 0")

    def capacity_per_slot_kw(self, horizon_slots: int) -> FloatArray:
        """The capacity of each slot of the horizon."""
        capacity = np.full(horizon_slots, self.capacity_kw, dtype=np.float64)
        overrides = np.asarray(self.capacity_override_kw[:horizon_slots], dtype=np.float64)
        known = ~np.isnan(overrides)
        capacity[: overrides.size][known] = np.maximum(overrides[known], 0.0)
        return capacity


@dataclass(frozen=True, slots=True)
class PlanRequest:
    """A snapshot of the site: sessions, limits and prices over `horizon_slots` from `start_slot`.

    `price_per_kwh[k]` is the energy price of the k-th slot of the horizon (any currency unit);
    exported energy earns the same price. `degradation_per_kwh` is the cost of each kWh taken out
    of a battery (V2G wear), `demand_charge_per_kw` the cost of each kW of site peak above the
    peak floor, both in the prices' unit.
    """

    start_slot: int
    slot_minutes: float
    horizon_slots: int
    sessions: tuple[SessionDemand, ...]
    site: SiteLimits
    price_per_kwh: tuple[float, ...] = ()
    degradation_per_kwh: float = 0.0
    demand_charge_per_kw: float = 0.0

    def __post_init__(self) -> None:
        if self.degradation_per_kwh < 0 or self.demand_charge_per_kw < 0:
            raise ValueError("degradation_per_kwh and demand_charge_per_kw must be >= 0")
        if self.horizon_slots < 1:
            raise ValueError("horizon_slots must be >= 1")
        if self.slot_minutes <= 0:
            raise ValueError("slot_minutes must be > 0")
        if self.price_per_kwh and len(self.price_per_kwh) < self.horizon_slots:
            raise ValueError("price_per_kwh must cover the horizon")
        ids = [s.session_id for s in self.sessions]
        if len(set(ids)) != len(ids):
            raise ValueError("session ids must be unique")

    @property
    def slot_hours(self) -> float:
        return self.slot_minutes / 60.0

    @property
    def end_slot(self) -> int:
        return self.start_slot + self.horizon_slots

    def windows(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Each session's chargeable slots within the horizon, as horizon offsets `[lo, hi)`."""
        arrival = np.array([s.arrival_slot for s in self.sessions], dtype=np.int64)
        departure = np.array([s.departure_slot for s in self.sessions], dtype=np.int64)
        lo = np.clip(arrival - self.start_slot, 0, self.horizon_slots)
        hi = np.clip(departure - self.start_slot, 0, self.horizon_slots)
        return lo, np.maximum(lo, hi)

    def floors_kw(self) -> FloatArray:
        """Each session's minimum power, lowered so that it never forces more than the need."""
        lo, hi = self.windows()
        hours = (hi - lo) * self.slot_hours
        out = np.zeros(len(self.sessions), dtype=np.float64)
        for i, s in enumerate(self.sessions):
            if s.min_power_kw > 0 and hours[i] > 0:
                out[i] = min(s.min_power_kw, s.max_power_kw, s.energy_kwh / hours[i])
        return out


@dataclass(frozen=True, slots=True)
class Plan:
    """A schedule: `power_kw[i, k]` is the power of session i in the k-th slot of the horizon.

    `spare_kw[i, k]`, when set, is what session i may draw on top in that slot out of what the
    plan leaves of the capacity (`spare`); the plan's own energy never exceeds a need.
    """

    session_ids: tuple[str, ...]
    start_slot: int
    slot_minutes: float
    power_kw: FloatArray
    unmet_energy_kwh: FloatArray
    solve_ms: float
    status: PlanStatus
    algorithm: str
    detail: Mapping[str, float] = field(default_factory=dict)
    spare_kw: FloatArray | None = None

    @property
    def horizon_slots(self) -> int:
        return int(self.power_kw.shape[1])

    def delivered_energy_kwh(self) -> FloatArray:
        return np.asarray(self.power_kw.sum(axis=1) * (self.slot_minutes / 60.0), dtype=np.float64)

    def site_power_kw(self) -> FloatArray:
        return np.asarray(self.power_kw.sum(axis=0), dtype=np.float64)

    def power_at_kw(self, slot: int) -> dict[str, float]:
        """Each session's power in absolute slot `slot` (0 outside the horizon)."""
        return self._at(self.power_kw, slot)

    def offered_kw(self) -> FloatArray:
        """Each session's power with its share of the spare capacity: what a charger is told."""
        if self.spare_kw is None:
            return self.power_kw
        return np.asarray(self.power_kw + self.spare_kw, dtype=np.float64)

    def offered_at_kw(self, slot: int) -> dict[str, float]:
        """`offered_kw` in absolute slot `slot` (0 outside the horizon); that slot's column only
        (the replay asks at every slot)."""
        planned = self._at(self.power_kw, slot)
        if self.spare_kw is None:
            return planned
        spare = self._at(self.spare_kw, slot)
        return {sid: kw + spare[sid] for sid, kw in planned.items()}

    def _at(self, matrix: FloatArray, slot: int) -> dict[str, float]:
        k = slot - self.start_slot
        if not 0 <= k < self.horizon_slots:
            return dict.fromkeys(self.session_ids, 0.0)
        return {sid: float(p) for sid, p in zip(self.session_ids, matrix[:, k], strict=True)}


def empty_plan(request: PlanRequest, algorithm: str, status: PlanStatus) -> Plan:
    """The plan of a request without sessions."""
    return Plan(
        session_ids=(),
        start_slot=request.start_slot,
        slot_minutes=request.slot_minutes,
        power_kw=np.zeros((0, request.horizon_slots), dtype=np.float64),
        unmet_energy_kwh=np.zeros(0, dtype=np.float64),
        solve_ms=0.0,
        status=status,
        algorithm=algorithm,
    )


def session_index(sessions: Sequence[SessionDemand]) -> dict[str, int]:
    return {s.session_id: i for i, s in enumerate(sessions)}
