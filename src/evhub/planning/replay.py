"""Replaying recorded charging sessions through a planner, after ACN-Sim's conventions.

Time is cut into 5-minute slots counted from local midnight of the file's first arrival; a session
arriving in slot a and leaving in slot d may charge in slots a <= t < d at up to `station_kw`.
Its true need is the energy it actually received in the recording (`delivered_energy`).

Model-predictive loop: the planner sees the vehicles plugged in (never future arrivals), plans over
a horizon that ends at the latest departure it knows of (at most 24 h), and the first slot of the
plan is applied. It re-plans whenever a vehicle arrives, leaves, becomes full, or overstays its
declared departure, and at least every `replan_every_slots`; between re-plans the plan's later
slots are applied as computed.

With `declared=True` the planner is told what drivers typed in the app (`requested_energy`,
`estimated_departure`), marked as guesses (`SessionDemand.departure_known` False), while reality
keeps the recorded values: a vehicle stops absorbing at its true need (the charger reports it, so
the planner learns its need is met and that it takes no more power) and leaves at its true
departure; a vehicle still drawing after its declared need may take what the plan leaves of the
capacity (`spare`). A declared departure at or before arrival becomes arrival + 1 slot; a
declared need of 0 kWh or less becomes `DEFAULT_DECLARED_NEED_KWH`. A vehicle still plugged in
at its declared departure is assumed to stay `OVERSTAY_EXTENSION_SLOTS` more, again and again.

The LP's peak stage flattens only above `peak_floor`: by default the site capacity (so the LP
charges as soon as possible, like the heuristics), or with "history" the highest site power so far
(demand-charge semantics: lower peaks, but energy deferred early in the replay can be lost when
later arrivals compete for the capacity).

`offline` solves the same lexicographic LP once with perfect foresight (true needs, departures and
future arrivals), split into independent stretches of time between which no vehicle is plugged in.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import timedelta

import numpy as np

from evhub.planning.acn import AcnSession
from evhub.planning.heuristics import HEURISTICS, plan_with_heuristic
from evhub.planning.model import FloatArray, Plan, PlanRequest, SessionDemand, SiteLimits
from evhub.planning.optimiser import plan

SLOT_MINUTES = 5
HORIZON_CAP_SLOTS = 288
DEFAULT_REPLAN_EVERY_SLOTS = 12
DEFAULT_DECLARED_NEED_KWH = 10.0
OVERSTAY_EXTENSION_SLOTS = 12
DEMAND_MET_FRACTION = 0.99
"""A session's demand counts as met when it received at least this share of its true need."""
LIMIT_EPSILON_KW = 1e-6
ALGORITHMS = ("lp", "offline", *HEURISTICS)
PEAK_FLOORS = ("capacity", "history")
_FULL_KWH = 1e-6


@dataclass(frozen=True, slots=True)
class ReplaySession:
    session_id: str
    arrival_slot: int
    departure_slot: int
    need_kwh: float
    declared_departure_slot: int
    declared_need_kwh: float


@dataclass(frozen=True, slots=True)
class ReplayConfig:
    capacity_kw: float = 50.0
    station_kw: float = 6.656
    algorithm: str = "lp"
    declared: bool = False
    replan_every_slots: int = DEFAULT_REPLAN_EVERY_SLOTS
    peak_floor: str = "capacity"
    """What the LP need not flatten below: "capacity" (the site limit: charge as soon as
    possible) or "history" (the highest site power so far, as under a demand charge)."""


@dataclass(slots=True)
class ReplayResult:
    algorithm: str
    capacity_kw: float
    peak_floor: str
    station_kw: float
    declared: bool
    sessions: int
    energy_delivered_pct: float
    demands_met_pct: float
    peak_kw: float
    limit_violations: int
    replans: int
    solve_ms_p50: float
    solve_ms_p95: float
    wall_s: float
    file: str = ""
    stations: int = 0
    sessions_skipped: int = 0
    statuses: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _slot(minutes: float) -> int:
    return int(minutes // SLOT_MINUTES)


def to_replay_sessions(
    recorded: Sequence[AcnSession], *, stations: int | None = None, limit_days: int | None = None
) -> tuple[list[ReplaySession], int]:
    """Slot the recorded sessions; returns them and how many were skipped (empty stay).

    `stations` keeps the sessions of the first N station ids (sorted); `limit_days` keeps the
    sessions arriving within that many days of the first arrival's midnight.
    """
    if not recorded:
        return [], 0
    first = min(s.arrival for s in recorded)
    origin = first.replace(hour=0, minute=0, second=0, microsecond=0)
    kept_stations = sorted({s.station_id for s in recorded})[:stations] if stations else None
    out: list[ReplaySession] = []
    skipped = 0
    for s in sorted(recorded, key=lambda r: r.arrival):
        if kept_stations is not None and s.station_id not in kept_stations:
            continue
        if limit_days is not None and s.arrival - origin >= timedelta(days=limit_days):
            continue
        arrival = _slot((s.arrival - origin).total_seconds() / 60.0)
        departure = _slot((s.departure - origin).total_seconds() / 60.0)
        if departure <= arrival:
            skipped += 1
            continue
        declared_departure = _slot((s.estimated_departure - origin).total_seconds() / 60.0)
        declared_need = s.requested_energy_kwh
        out.append(
            ReplaySession(
                session_id=s.session_id,
                arrival_slot=arrival,
                departure_slot=departure,
                need_kwh=max(s.delivered_energy_kwh, 0.0),
                declared_departure_slot=max(declared_departure, arrival + 1),
                declared_need_kwh=declared_need if declared_need > 0 else DEFAULT_DECLARED_NEED_KWH,
            )
        )
    return out, skipped


class _Fleet:
    """What happened so far: energy each session received and the site's power per slot."""

    def __init__(self, sessions: Sequence[ReplaySession], config: ReplayConfig) -> None:
        self.sessions = list(sessions)
        self.config = config
        self.dt = SLOT_MINUTES / 60.0
        self.start = min(s.arrival_slot for s in sessions)
        self.end = max(s.departure_slot for s in sessions)
        self.arrival = np.array([s.arrival_slot for s in sessions], dtype=np.int64)
        self.departure = np.array([s.departure_slot for s in sessions], dtype=np.int64)
        self.need = np.array([s.need_kwh for s in sessions], dtype=np.float64)
        self.delivered = np.zeros(len(sessions), dtype=np.float64)
        self.site_kw = np.zeros(self.end - self.start, dtype=np.float64)
        self.believed_departure = np.array(
            [s.declared_departure_slot if config.declared else s.departure_slot for s in sessions],
            dtype=np.int64,
        )

    def present(self, t: int) -> np.ndarray:
        return np.flatnonzero((self.arrival <= t) & (t < self.departure))

    def full(self, idx: np.ndarray) -> np.ndarray:
        return np.asarray(self.delivered[idx] >= self.need[idx] - _FULL_KWH)

    def apply(self, t: int, idx: np.ndarray, power_kw: FloatArray) -> None:
        """Deliver `power_kw` to sessions `idx` in slot t; a vehicle stops at its true need."""
        room = np.maximum(self.need[idx] - self.delivered[idx], 0.0) / self.dt
        absorbed = np.clip(power_kw, 0.0, np.minimum(room, self.config.station_kw))
        self.delivered[idx] += absorbed * self.dt
        self.site_kw[t - self.start] = float(absorbed.sum())

    def request(self, t: int, idx: np.ndarray) -> PlanRequest:
        """The planner's view at slot t: plugged-in vehicles with declared or true values."""
        declared = self.config.declared
        demands = []
        for i in idx:
            s = self.sessions[i]
            believed_need = s.declared_need_kwh if declared else s.need_kwh
            full = bool(self.full(np.array([i]))[0])
            remaining = 0.0 if full else believed_need - self.delivered[i]
            demands.append(
                SessionDemand(
                    session_id=s.session_id,
                    energy_kwh=max(remaining, 0.0),
                    arrival_slot=t,
                    departure_slot=int(self.believed_departure[i]),
                    max_power_kw=0.0 if full else self.config.station_kw,
                    need_source="declared" if declared else "recorded",
                    departure_known=not declared,
                )
            )
        horizon = int(min(max(self.believed_departure[idx].max() - t, 1), HORIZON_CAP_SLOTS))
        peak_floor = self.config.capacity_kw
        if self.config.peak_floor == "history":
            peak_floor = float(self.site_kw[: t - self.start].max(initial=0.0))
        site = SiteLimits(capacity_kw=self.config.capacity_kw, peak_floor_kw=peak_floor)
        return PlanRequest(t, SLOT_MINUTES, horizon, tuple(demands), site)


def _planner(config: ReplayConfig) -> str:
    if config.peak_floor not in PEAK_FLOORS:
        raise ValueError(f"unknown peak floor {config.peak_floor!r}; expected one of {PEAK_FLOORS}")
    if config.algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {config.algorithm!r}; expected one of {ALGORITHMS}")
    return config.algorithm


def _solve(algorithm: str, request: PlanRequest) -> Plan:
    return plan(request) if algorithm == "lp" else plan_with_heuristic(request, algorithm)


def _run_mpc(fleet: _Fleet, algorithm: str) -> list[Plan]:
    """Step through every slot, re-planning on events and at the fixed interval."""
    plans: list[Plan] = []
    current: Plan | None = None
    last_plan = fleet.start
    was_present = np.zeros(0, dtype=np.int64)
    planned_full = np.zeros(0, dtype=np.int64)  # the sessions already full when `current` was made
    for t in range(fleet.start, fleet.end):
        idx = fleet.present(t)
        if idx.size == 0:
            current, was_present = None, idx
            continue
        overstay = idx[fleet.believed_departure[idx] <= t]
        fleet.believed_departure[overstay] = t + OVERSTAY_EXTENSION_SLOTS
        full = fleet.full(idx)
        changed = (
            current is None
            or overstay.size > 0
            or not np.array_equal(idx, was_present)
            or not np.isin(idx[full], planned_full).all()
            or t - last_plan >= fleet.config.replan_every_slots
            or t >= current.start_slot + current.horizon_slots
        )
        if changed:
            current = _solve(algorithm, fleet.request(t, idx))
            plans.append(current)
            last_plan, planned_full = t, idx[full]
        assert current is not None
        planned = current.offered_at_kw(t)
        fleet.apply(t, idx, np.array([planned.get(fleet.sessions[i].session_id, 0.0) for i in idx]))
        was_present = idx
    return plans


def _stretches(fleet: _Fleet) -> list[np.ndarray]:
    """Groups of sessions whose stays chain together; no vehicle is plugged in between groups."""
    order = np.argsort(fleet.arrival, kind="stable")
    groups: list[list[int]] = []
    reach = -1
    for i in order:
        if fleet.arrival[i] >= reach:
            groups.append([])
        groups[-1].append(int(i))
        reach = max(reach, int(fleet.departure[i]))
    return [np.array(g, dtype=np.int64) for g in groups]


def _run_offline(fleet: _Fleet) -> list[Plan]:
    """The perfect-foresight LP over each stretch; applies every slot of its plan."""
    plans = []
    for group in _stretches(fleet):
        start = int(fleet.arrival[group].min())
        horizon = int(fleet.departure[group].max()) - start
        demands = tuple(
            SessionDemand(
                session_id=fleet.sessions[i].session_id,
                energy_kwh=float(fleet.need[i]),
                arrival_slot=int(fleet.arrival[i]),
                departure_slot=int(fleet.departure[i]),
                max_power_kw=fleet.config.station_kw,
                need_source="recorded",
            )
            for i in group
        )
        site = SiteLimits(capacity_kw=fleet.config.capacity_kw)
        result = plan(
            PlanRequest(start, SLOT_MINUTES, horizon, demands, site),
            time_limit_s=600.0,
            max_exact_columns=None,
        )
        plans.append(result)
        for k in range(horizon):
            fleet.apply(start + k, group, result.power_kw[:, k])
    return plans


def replay(
    sessions: Sequence[ReplaySession], config: ReplayConfig, *, file: str = "", stations: int = 0
) -> ReplayResult:
    """Replay `sessions` with `config.algorithm` and measure what the site delivered."""
    algorithm = _planner(config)
    started = time.perf_counter()
    if not sessions:
        raise ValueError("no sessions to replay")
    fleet = _Fleet(sessions, config)
    plans = _run_offline(fleet) if algorithm == "offline" else _run_mpc(fleet, algorithm)
    wall_s = time.perf_counter() - started
    solve_ms = np.array([p.solve_ms for p in plans]) if plans else np.zeros(1)
    met = fleet.delivered >= DEMAND_MET_FRACTION * fleet.need - _FULL_KWH
    statuses: dict[str, int] = {}
    for p in plans:
        statuses[str(p.status)] = statuses.get(str(p.status), 0) + 1
    return ReplayResult(
        algorithm=algorithm,
        capacity_kw=config.capacity_kw,
        peak_floor=config.peak_floor,
        station_kw=config.station_kw,
        declared=config.declared,
        sessions=len(sessions),
        energy_delivered_pct=100.0 * float(fleet.delivered.sum() / max(fleet.need.sum(), 1e-12)),
        demands_met_pct=100.0 * float(met.mean()),
        peak_kw=float(fleet.site_kw.max(initial=0.0)),
        limit_violations=int((fleet.site_kw > config.capacity_kw + LIMIT_EPSILON_KW).sum()),
        replans=len(plans),
        solve_ms_p50=float(np.percentile(solve_ms, 50)),
        solve_ms_p95=float(np.percentile(solve_ms, 95)),
        wall_s=wall_s,
        file=file,
        stations=stations,
        statuses=statuses,
    )
