"""The V2G replay behind `evhub bench v2g`: what a site pays for its cars' energy, per planner.

Convention (fixed: automated checks rely on it):
- 15-minute slots from t0 = local midnight of the first arrival; only sessions arriving within
  the first `days` days; a car charges in slots [floor(arrival), floor(departure)). Sessions are
  assigned to stations as in `evhub bench planning`: the sessions of the first N station ids
  (sorted) are kept, the others dropped; a session with no whole slot is dropped too.
- Each car: battery B, arrives with e0 = S0 * B, its energy stays within [SMIN * B, B]; its target
  at departure is e0 + min(delivered_energy, ETA * P * 0.25 * slots present, B - e0).
- Drawing c kW puts ETA * c in the battery, feeding f kW takes f / ETA out of it, both up to P kW;
  the site's import (sum of draws) and export (sum of feeds) each stay within C kW in every slot.
- The price of slot t is row (t div 4) mod rows of the price file (row 0 at t0), EUR/MWh, and
  exports earn it too; each kWh taken out of a battery costs DEG:
  cost = sum over slots of price * (drawn - fed) * 0.25 h + DEG * (fed / ETA) * 0.25 h.
- uncontrolled: every car draws P from arrival until its target is in, the site limit ignored.
- online (`cost`, V2G; `smart_cost`, charge only): the production planner (`optimiser.plan`) at
  each re-plan sees the next 24 h of prices and the present cars' true targets and departures,
  nothing of future arrivals; it re-plans on every arrival or departure and every hour (when the
  next hour's price comes into view), and its plan is applied slot by slot in between.
- offline: the same LP with perfect foresight over each stretch of time with cars plugged in.
- satisfaction: share of cars leaving with at least their target minus 0.1 kWh.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import timedelta

import numpy as np

from evhub.planning.acn import AcnSession
from evhub.planning.model import FloatArray, Plan, PlanRequest, SessionDemand, SiteLimits
from evhub.planning.optimiser import plan

SLOT_MINUTES = 15
SLOT_HOURS = SLOT_MINUTES / 60.0
SLOTS_PER_PRICE_ROW = 4
HORIZON_SLOTS = 96
"""The online planner sees 24 h of prices."""
SATISFIED_SLACK_KWH = 0.1
LIMIT_EPSILON_KW = 1e-6
ENERGY_EPSILON_KWH = 1e-6
OFFLINE_TIME_LIMIT_S = 600.0


@dataclass(frozen=True, slots=True)
class V2gConfig:
    station_kw: float
    capacity_kw: float
    battery_kwh: float
    arrival_soc: float
    min_soc: float
    efficiency: float
    degradation_eur_per_kwh: float
    stations: int | None = None
    days: int | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.min_soc <= self.arrival_soc <= 1:
            raise ValueError("expected 0 <= min_soc <= arrival_soc <= 1")
        if not 0 < self.efficiency <= 1:
            raise ValueError("efficiency must be in (0, 1]")
        if min(self.station_kw, self.capacity_kw, self.battery_kwh) <= 0:
            raise ValueError("station_kw, capacity_kw and battery_kwh must be > 0")
        if self.degradation_eur_per_kwh < 0:
            raise ValueError("degradation_eur_per_kwh must be >= 0")


@dataclass(frozen=True, slots=True)
class V2gCar:
    session_id: str
    arrival_slot: int
    departure_slot: int
    initial_kwh: float
    target_kwh: float


@dataclass(slots=True)
class Outcome:
    """What one strategy did: energy bought, fed and each car's energy when it left."""

    cost_eur: float
    satisfaction: float
    discharged_kwh: float
    limit_violations: int
    min_soc_violations: int
    solve_ms: list[float] = field(default_factory=list)


def to_v2g_cars(recorded: Sequence[AcnSession], config: V2gConfig) -> tuple[list[V2gCar], int]:
    """Slot the sessions by the convention; returns the cars and how many sessions were dropped."""
    if not recorded:
        return [], 0
    origin = min(s.arrival for s in recorded).replace(hour=0, minute=0, second=0, microsecond=0)
    kept = sorted({s.station_id for s in recorded})[: config.stations] if config.stations else None
    slot = timedelta(minutes=SLOT_MINUTES)
    e0 = config.arrival_soc * config.battery_kwh
    cars: list[V2gCar] = []
    dropped = 0
    for s in sorted(recorded, key=lambda r: r.arrival):
        if config.days is not None and s.arrival - origin >= timedelta(days=config.days):
            continue
        if kept is not None and s.station_id not in kept:
            dropped += 1
            continue
        arrival, departure = (s.arrival - origin) // slot, (s.departure - origin) // slot
        if departure <= arrival:
            dropped += 1
            continue
        reach = config.efficiency * config.station_kw * SLOT_HOURS * (departure - arrival)
        gain = min(max(s.delivered_energy_kwh, 0.0), reach, config.battery_kwh - e0)
        cars.append(V2gCar(s.session_id, arrival, departure, e0, e0 + gain))
    return cars, dropped


def slot_prices_eur_per_mwh(rows: Sequence[float], slots: int) -> FloatArray:
    """The price of slots 0..slots-1: row (t div 4) mod len(rows)."""
    index = (np.arange(slots) // SLOTS_PER_PRICE_ROW) % len(rows)
    return np.asarray(np.asarray(rows, dtype=np.float64)[index], dtype=np.float64)


class _Site:
    """The cars' batteries slot by slot, and what the site paid; checks every physical bound."""

    def __init__(self, cars: Sequence[V2gCar], config: V2gConfig, prices: FloatArray) -> None:
        self.cars = list(cars)
        self.config = config
        self.prices = prices
        self.energy = np.array([c.initial_kwh for c in cars], dtype=np.float64)
        self.floor = config.min_soc * config.battery_kwh
        self.cost = 0.0
        self.fed_kwh = 0.0
        self.limit_violations = 0
        self.min_soc_violations = 0

    def apply(self, t: int, idx: Sequence[int], power_kw: Sequence[float]) -> None:
        """Cars `idx` draw (> 0) or feed (< 0) `power_kw` in slot t, within their batteries."""
        cfg, eta = self.config, self.config.efficiency
        drawn = fed = 0.0
        for i, kw in zip(idx, power_kw, strict=True):
            kw = float(np.clip(kw, -cfg.station_kw, cfg.station_kw))
            if kw > 0:
                c = min(kw, max(cfg.battery_kwh - self.energy[i], 0.0) / (eta * SLOT_HOURS))
                self.energy[i] += eta * c * SLOT_HOURS
                drawn += c
            elif kw < 0:
                room_kw = max(self.energy[i] - self.floor, 0.0) * eta / SLOT_HOURS
                if -kw > room_kw + ENERGY_EPSILON_KWH / SLOT_HOURS:
                    self.min_soc_violations += 1
                f = min(-kw, room_kw)
                self.energy[i] -= f / eta * SLOT_HOURS
                fed += f
        limit = cfg.capacity_kw + LIMIT_EPSILON_KW
        self.limit_violations += int(drawn > limit) + int(fed > limit)
        price_kwh = self.prices[t] / 1000.0
        self.cost += price_kwh * (drawn - fed) * SLOT_HOURS
        self.cost += cfg.degradation_eur_per_kwh * fed / eta * SLOT_HOURS
        self.fed_kwh += fed * SLOT_HOURS

    def outcome(self, solve_ms: list[float]) -> Outcome:
        targets = np.array([c.target_kwh for c in self.cars], dtype=np.float64)
        met = self.energy >= targets - SATISFIED_SLACK_KWH
        return Outcome(
            cost_eur=self.cost,
            satisfaction=float(met.mean()) if met.size else 1.0,
            discharged_kwh=self.fed_kwh,
            limit_violations=self.limit_violations,
            min_soc_violations=self.min_soc_violations,
            solve_ms=solve_ms,
        )


def _span(cars: Sequence[V2gCar]) -> int:
    return max(c.departure_slot for c in cars)


def run_uncontrolled(cars: Sequence[V2gCar], config: V2gConfig, prices: FloatArray) -> Outcome:
    """Every car draws its full power from arrival until its target is in."""
    site = _Site(cars, config, prices)
    eta = config.efficiency
    for t in range(_span(cars)):
        idx = [i for i, c in enumerate(cars) if c.arrival_slot <= t < c.departure_slot]
        missing = [max(cars[i].target_kwh - site.energy[i], 0.0) for i in idx]
        power = [min(config.station_kw, m / (eta * SLOT_HOURS)) for m in missing]
        site.apply(t, idx, power)
    return site.outcome([])


def _demand(car: V2gCar, config: V2gConfig, energy_kwh: float, v2g: bool, t: int) -> SessionDemand:
    return SessionDemand(
        session_id=car.session_id,
        energy_kwh=max(car.target_kwh - energy_kwh, 0.0),
        arrival_slot=max(car.arrival_slot, t),
        departure_slot=car.departure_slot,
        max_power_kw=config.station_kw,
        need_source="recorded",
        v2g_max_discharge_kw=config.station_kw if v2g else 0.0,
        efficiency=config.efficiency,
        battery_room_kwh=max(config.battery_kwh - energy_kwh, 0.0),
        discharge_room_kwh=max(energy_kwh - config.min_soc * config.battery_kwh, 0.0),
        surplus_kwh=max(energy_kwh - car.target_kwh, 0.0),
    )


def _request(
    cars: Sequence[V2gCar],
    idx: Sequence[int],
    site: _Site,
    v2g: bool,
    t: int,
    horizon: int,
) -> PlanRequest:
    cfg = site.config
    demands = tuple(_demand(cars[i], cfg, float(site.energy[i]), v2g, t) for i in idx)
    prices = tuple(float(p) / 1000.0 for p in site.prices[t : t + horizon])
    limits = SiteLimits(capacity_kw=cfg.capacity_kw, peak_floor_kw=cfg.capacity_kw)
    return PlanRequest(
        t, SLOT_MINUTES, horizon, demands, limits, prices, cfg.degradation_eur_per_kwh
    )


def run_online(
    cars: Sequence[V2gCar], config: V2gConfig, prices: FloatArray, *, v2g: bool
) -> Outcome:
    """The production planner, model-predictive: re-plans on arrivals, departures, every hour."""
    site = _Site(cars, config, prices)
    current: Plan | None = None
    present: list[int] = []
    solve_ms: list[float] = []
    for t in range(_span(cars)):
        idx = [i for i, c in enumerate(cars) if c.arrival_slot <= t < c.departure_slot]
        if not idx:
            current, present = None, idx
            continue
        stale = current is None or t >= current.start_slot + current.horizon_slots
        if stale or idx != present or t % SLOTS_PER_PRICE_ROW == 0:
            last = max(cars[i].departure_slot for i in idx)
            horizon = max(min(last - t, HORIZON_SLOTS), 1)
            current = plan(_request(cars, idx, site, v2g, t, horizon))
            solve_ms.append(current.solve_ms)
        assert current is not None
        planned = current.power_at_kw(t)
        site.apply(t, idx, [planned.get(cars[i].session_id, 0.0) for i in idx])
        present = idx
    return site.outcome(solve_ms)


def _stretches(cars: Sequence[V2gCar]) -> list[list[int]]:
    """Groups of cars whose stays chain together; no car is plugged in between two groups."""
    order = sorted(range(len(cars)), key=lambda i: cars[i].arrival_slot)
    groups: list[list[int]] = []
    reach = -1
    for i in order:
        if cars[i].arrival_slot >= reach:
            groups.append([])
        groups[-1].append(i)
        reach = max(reach, cars[i].departure_slot)
    return groups


def run_offline(cars: Sequence[V2gCar], config: V2gConfig, prices: FloatArray) -> Outcome:
    """Perfect foresight: one LP with V2G per stretch, every slot of it applied."""
    site = _Site(cars, config, prices)
    solve_ms: list[float] = []
    for group in _stretches(cars):
        start = min(cars[i].arrival_slot for i in group)
        horizon = max(cars[i].departure_slot for i in group) - start
        demands = tuple(
            _demand(cars[i], config, float(site.energy[i]), True, cars[i].arrival_slot)
            for i in group
        )
        request = PlanRequest(
            start,
            SLOT_MINUTES,
            horizon,
            demands,
            SiteLimits(capacity_kw=config.capacity_kw, peak_floor_kw=config.capacity_kw),
            tuple(float(p) / 1000.0 for p in prices[start : start + horizon]),
            config.degradation_eur_per_kwh,
        )
        result = plan(request, time_limit_s=OFFLINE_TIME_LIMIT_S, max_exact_columns=None)
        solve_ms.append(result.solve_ms)
        for k in range(horizon):
            t = start + k
            idx = [i for i in group if cars[i].arrival_slot <= t < cars[i].departure_slot]
            row = {i: n for n, i in enumerate(group)}
            site.apply(t, idx, [float(result.power_kw[row[i], k]) for i in idx])
    return site.outcome(solve_ms)


@dataclass(slots=True)
class V2gResult:
    cost_eur: float
    smart_cost_eur: float
    uncontrolled_cost_eur: float
    offline_cost_eur: float
    satisfaction: float
    min_soc_violations: int
    limit_violations: int
    discharged_kwh: float
    solve_ms_p95: float
    solve_ms_p50: float
    savings_vs_offline: float
    """(uncontrolled - cost) / (uncontrolled - offline): the share of the offline saving reached."""
    smart_satisfaction: float
    offline_satisfaction: float
    offline_discharged_kwh: float
    uncontrolled_limit_violations: int
    cars: int
    sessions_dropped: int
    replans: int
    wall_s: float

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else 0.0


def replay_v2g(
    cars: Sequence[V2gCar], config: V2gConfig, price_rows: Sequence[float], dropped: int = 0
) -> V2gResult:
    """Run every strategy over the same cars and prices."""
    if not cars:
        raise ValueError("no car to replay")
    if not price_rows:
        raise ValueError("no price")
    started = time.perf_counter()
    prices = slot_prices_eur_per_mwh(price_rows, _span(cars) + HORIZON_SLOTS)
    online = run_online(cars, config, prices, v2g=True)
    smart = run_online(cars, config, prices, v2g=False)
    uncontrolled = run_uncontrolled(cars, config, prices)
    offline = run_offline(cars, config, prices)
    saving = uncontrolled.cost_eur - offline.cost_eur
    return V2gResult(
        cost_eur=online.cost_eur,
        smart_cost_eur=smart.cost_eur,
        uncontrolled_cost_eur=uncontrolled.cost_eur,
        offline_cost_eur=offline.cost_eur,
        satisfaction=online.satisfaction,
        min_soc_violations=online.min_soc_violations,
        limit_violations=online.limit_violations,
        discharged_kwh=online.discharged_kwh,
        solve_ms_p95=_percentile(online.solve_ms, 95),
        solve_ms_p50=_percentile(online.solve_ms, 50),
        savings_vs_offline=(uncontrolled.cost_eur - online.cost_eur) / saving if saving else 1.0,
        smart_satisfaction=smart.satisfaction,
        offline_satisfaction=offline.satisfaction,
        offline_discharged_kwh=offline.discharged_kwh,
        uncontrolled_limit_violations=uncontrolled.limit_violations,
        cars=len(cars),
        sessions_dropped=dropped,
        replans=len(online.solve_ms),
        wall_s=time.perf_counter() - started,
    )
