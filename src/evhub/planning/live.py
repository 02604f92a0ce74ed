"""Planning a live site: snapshot the database, solve off the event loop, decide the limits.

Safety: every idle EVSE holds a small TxDefault allowance (a share of the site limit) so that an
arriving car can start before it is planned; stations that are offline or refuse profiles keep
that allowance too. The planner only shares what is left: the grid limit minus those allowances.
Summed, the limits in force never exceed the site's limit.

Prices (the site's day-ahead prices and grid fee, `prices.service.price_signal`) shape the plan
when known; a car that may feed the grid (`v2x_needs`) is then planned with its battery's bounds,
and its limit goes below zero in the slots where discharging pays.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.assets import service as assets
from evhub.assets.models import Evse, Station
from evhub.charging.models import Transaction
from evhub.planning import caps
from evhub.planning.demand import FleetDemand, HistoryDefaults, Need, PluggedVehicle, needs_of
from evhub.planning.heuristics import plan_with_heuristic
from evhub.planning.model import Plan, PlanningError, PlanRequest, SessionDemand, SiteLimits
from evhub.planning.optimiser import plan
from evhub.planning.v2x_needs import WEAR_PER_KWH
from evhub.prices import service as prices
from evhub.reservations import service as reservations

EvseKey = tuple[str, int]
RESERVE_FRACTION = 0.1
TAPER_MARGIN = 0.9  # a car drawing less than this share of its limit (less the slack) tapers
TAPER_SLACK_KW = 0.5
TAPER_HEADROOM = 1.15  # > 1 / TAPER_MARGIN: a tapering car stays judged so under its cap
# The plan means to finish one slot before each declared departure: cars draw what they are
# allowed with some lag, and a plan that finishes just in time then falls a little short.
DEPARTURE_MARGIN_SLOTS = 1


@dataclass(frozen=True)
class EvseInfo:
    station_id: str
    evse_id: int
    current_type: str
    phases: int
    max_power_kw: float
    cap_kw: float | None = None  # an operator's cap, in force now
    allowed_units: str | None = None  # what the station accepts, when it said so

    @property
    def key(self) -> EvseKey:
        return (self.station_id, self.evse_id)

    @property
    def usable_kw(self) -> float:
        """The most the planner may give this EVSE: its rating, or the operator's cap."""
        return self.max_power_kw if self.cap_kw is None else min(self.max_power_kw, self.cap_kw)


@dataclass(frozen=True)
class Running:
    """A running transaction with what the planner needs of it."""

    tx_pk: int
    ocpp_transaction_id: str
    evse: EvseInfo
    need: Need
    measured_kw: float | None


@dataclass(frozen=True)
class Upcoming:
    """A booked car not there yet: the plan keeps power for it from its slot on."""

    booking_id: int
    evse: EvseInfo
    energy_kwh: float
    arrival_at: datetime
    departure_at: datetime


@dataclass(frozen=True)
class SiteSnapshot:
    site_id: int
    grid_limit_kw: float
    timezone: str
    now: datetime
    evses: tuple[EvseInfo, ...]
    running: tuple[Running, ...]
    controllable: frozenset[EvseKey]
    upcoming: tuple[Upcoming, ...] = ()
    # The limit each EVSE was last told, where known: an unreachable station keeps it.
    known_kw: Mapping[EvseKey, float] = field(default_factory=dict)
    # The price of each planning slot from `now` (EUR/kWh); empty: no prices known.
    price_per_kwh: tuple[float, ...] = ()

    @cached_property
    def station_ids(self) -> frozenset[str]:
        return frozenset(e.station_id for e in self.evses)


@dataclass(frozen=True)
class Allocation:
    running: Running
    max_power_kw: float
    power_kw: tuple[float, ...]
    # The lowest limit the EVSE may be told: below zero only for a car that may feed the grid.
    min_power_kw: float = 0.0

    @property
    def limit_kw(self) -> float:
        return self.power_kw[0] if self.power_kw else 0.0


@dataclass(frozen=True)
class SitePlan:
    site_id: int
    computed_at: datetime
    start: datetime
    slot_minutes: float
    grid_limit_kw: float
    capacity_kw: float
    algorithm: str
    status: str
    solve_ms: float
    allocations: tuple[Allocation, ...]
    idle_allowance_kw: Mapping[EvseKey, float] = field(default_factory=dict)
    uncontrolled_kw: Mapping[EvseKey, float] = field(default_factory=dict)
    # Power kept for booked cars not there yet: (session id, kW per slot).
    reserved: tuple[tuple[str, tuple[float, ...]], ...] = ()
    # Every EVSE of the site, so that a limit is built for what it is (AC or DC, its cap).
    evses: Mapping[EvseKey, EvseInfo] = field(default_factory=dict)
    # The TxDefault of each EVSE with a car: what it falls back to when the car leaves.
    busy_allowance_kw: Mapping[EvseKey, float] = field(default_factory=dict)

    @property
    def measured_load_kw(self) -> float:
        return sum(a.running.measured_kw or 0.0 for a in self.allocations)


def allowance_kw(snapshot: SiteSnapshot, evse: EvseInfo) -> float:
    """The TxDefault share of an EVSE: a tenth of the site limit spread over its EVSEs."""
    share = RESERVE_FRACTION * snapshot.grid_limit_kw / max(1, len(snapshot.evses))
    return round(min(evse.usable_kw, share), 1)


async def snapshot_site(
    session: AsyncSession,
    site_id: int,
    now: datetime,
    controllable: frozenset[EvseKey],
    slot_minutes: float = 5.0,
    horizon_slots: int = 288,
    fleet: FleetDemand | None = None,
    histories: HistoryDefaults | None = None,
) -> SiteSnapshot:
    site = await assets.get_site(session, site_id)
    # Columns, not entities: loading each station and its EVSEs through the ORM (a
    # selectin load per plan) was 2 % of a loaded server's samples, for five values an EVSE.
    rows = (
        await session.execute(
            select(Evse.station_id, Evse.evse_id, Evse.current_type, Evse.phases, Evse.max_power_kw)
            .join(Station, Station.id == Evse.station_id)
            .where(Station.site_id == site_id)
            .order_by(Evse.station_id, Evse.evse_id)
        )  # fmt: skip
    ).all()
    ids = sorted({r.station_id for r in rows})
    capped = await caps.caps_in_force(session, ids, now)
    units = await caps.rate_units(session, ids)
    evses = {
        (r.station_id, r.evse_id): EvseInfo(
            r.station_id,
            r.evse_id,
            r.current_type,
            r.phases,
            r.max_power_kw,
            capped.get((r.station_id, r.evse_id)),
            units.get(r.station_id),
        )  # fmt: skip
        for r in rows
    }
    txs = list(
        (
            await session.execute(
                select(Transaction)
                .join(Station, Station.id == Transaction.station_id)
                .where(Station.site_id == site_id, Transaction.state == "active")
                .order_by(Transaction.id)
            )
        ).scalars()
    )
    txs = [tx for tx in txs if (tx.station_id, tx.evse_id) in evses]
    booked = await reservations.declared_needs(session, site_id, now)
    by_tx = {b.transaction_pk: b for b in booked if b.transaction_pk is not None}
    shared = {}
    if fleet is not None and txs:
        plugged = [
            PluggedVehicle(
                tx.id,
                tx.id_token,
                tx.station_id,
                tx.evse_id,
                min(evses[(tx.station_id, tx.evse_id)].usable_kw, site.grid_limit_kw),
                tx.energy_wh / 1000,
                tx.soc_last_pct,
            )  # fmt: skip
            for tx in txs
        ]
        shared = dict(await fleet(session, plugged, now))
    tz = ZoneInfo(site.timezone)
    needs = await needs_of(session, site_id, tz, txs, now, by_tx, shared, histories)
    busy = {(tx.station_id, tx.evse_id) for tx in txs}
    upcoming = tuple(
        Upcoming(
            b.booking_id,
            evses[(b.station_id, b.evse_id)],
            b.energy_kwh,
            b.arrival_at,
            b.departure_at,
        )  # fmt: skip
        for b in booked
        if b.transaction_pk is None
        and (b.station_id, b.evse_id) in evses
        and (b.station_id, b.evse_id) not in busy
        and b.departure_at > now
    )
    running = tuple(
        Running(
            tx.id,
            tx.ocpp_transaction_id,
            evses[(tx.station_id, tx.evse_id)],
            need,
            None if tx.power_last_w is None else tx.power_last_w / 1000,
        )  # fmt: skip
        for tx, need in zip(txs, needs, strict=True)
    )
    signal = await prices.price_signal(session, site_id, now, horizon_slots, slot_minutes)
    return SiteSnapshot(site_id, site.grid_limit_kw, site.timezone, now,
                        tuple(evses.values()), running, controllable, upcoming,
                        price_per_kwh=tuple(float(p) for p in signal))  # fmt: skip


def car_max_kw(running: Running, previous_limit_kw: float | None) -> float:
    """What the car can take: the EVSE's maximum, unless it drew clearly less than it was
    allowed (a tapering battery), in which case the rest goes to the others (closed loop).

    The cap leaves the car room above its draw, wide enough that a car still drawing the
    same under that cap is again judged tapering: with less room, the next plan saw it use
    "all" of its cap, gave it the EVSE's maximum again, and the one after capped it again, a
    new profile for it and its neighbours at every plan. It gets its maximum back once it
    draws near its cap."""
    evse_max = running.evse.usable_kw
    measured = running.measured_kw
    if measured is None or previous_limit_kw is None:
        return evse_max
    if measured < TAPER_MARGIN * previous_limit_kw - TAPER_SLACK_KW:
        return min(evse_max, tapering_cap_kw(measured))
    return evse_max


def tapering_cap_kw(measured_kw: float) -> float:
    """The limit of a car that draws `measured_kw`, less than it was allowed: its draw with
    room to rise (a tapering curve flattens, a reading lags), so that it never starves."""
    return measured_kw * TAPER_HEADROOM + 2 * TAPER_SLACK_KW


class LastSolve:
    """A site's last request to the optimiser and its answer: a request equal to it gets the
    same plan without a solve. The timer re-plans every site each minute; a site whose state
    has not moved since (cars full or gone idle, the night, no meter value in between) asks
    the same question again, and the solver, deterministic, would give the same answer."""

    __slots__ = ("_last",)

    def __init__(self) -> None:
        # One attribute, so that a reader in another thread (a preview) sees a matching pair.
        self._last: tuple[PlanRequest, Plan] | None = None

    def solve(self, request: PlanRequest, time_limit_s: float) -> Plan:
        last = self._last
        if last is not None and last[0] == request:
            return replace(last[1], solve_ms=0.0)
        result = _solve(request, time_limit_s)
        self._last = (request, result)
        return result


def plan_site(
    snapshot: SiteSnapshot,
    previous_limits: Mapping[int, float],
    slot_minutes: float = 5.0,
    horizon_slots: int = 288,
    time_limit_s: float = 2.0,
    peak_floor_kw: float = 0.0,
    previous_solve: LastSolve | None = None,
) -> SitePlan:
    """Solve the site (CPU-bound: call it in a worker thread).

    `peak_floor_kw` is the peak the site has already drawn today: flattening below it gains
    nothing and only delays energy that a car leaving early would then miss. `previous_solve`
    holds the site's last solve (one `LastSolve` per site)."""
    # Every EVSE keeps its allowance at all times (a car that leaves drops its EVSE back to
    # TxDefault, whatever its own limit was); the planner shares what is left, on top.
    allowances = {e.key: allowance_kw(snapshot, e) for e in snapshot.evses}
    busy = {r.evse.key for r in snapshot.running}
    planned = [r for r in snapshot.running if r.evse.key in snapshot.controllable]
    uncontrolled = {
        # Never told anything, the station applies its own rating (OCPP 1.6 §3.13, 2.0.1 K01).
        r.evse.key: max(
            allowances[r.evse.key], snapshot.known_kw.get(r.evse.key, r.evse.max_power_kw)
        )
        for r in snapshot.running
        if r.evse.key not in snapshot.controllable
    }
    idle = {k: v for k, v in allowances.items() if k not in busy}
    held_above_allowance = sum(kw - allowances[k] for k, kw in uncontrolled.items())
    capacity = max(0.0, snapshot.grid_limit_kw - sum(allowances.values()) - held_above_allowance)
    # Slots count from now: the first one is whole, and a car counts only the slots it will
    # be there for entirely (a departure inside a slot does not get that slot).
    slot_s = slot_minutes * 60.0

    def slots_until(at: datetime, margin: int = 0) -> int:
        return max(1, math.floor((at - snapshot.now).total_seconds() / slot_s) - margin)

    sessions = tuple(
        _session(
            r,
            allowances[r.evse.key],
            slots_until(r.need.departure_at, DEPARTURE_MARGIN_SLOTS),
            car_max_kw(r, previous_limits.get(r.tx_pk)),
        )
        for r in planned
    )
    booked = tuple(
        SessionDemand(
            session_id=f"booking:{u.booking_id}",
            energy_kwh=u.energy_kwh,
            arrival_slot=slots_until(u.arrival_at) if u.arrival_at > snapshot.now else 0,
            departure_slot=slots_until(u.departure_at, DEPARTURE_MARGIN_SLOTS),
            max_power_kw=max(0.0, u.evse.usable_kw - allowances[u.evse.key]),
            need_source="reservation",
            takes_spare=False,
        )
        for u in snapshot.upcoming
    )
    sessions += tuple(b for b in booked if b.arrival_slot < b.departure_slot)
    last = max((s.departure_slot for s in sessions), default=1)
    limits = SiteLimits(capacity_kw=capacity, peak_floor_kw=min(capacity, peak_floor_kw))
    horizon = min(horizon_slots, last)
    priced = snapshot.price_per_kwh[:horizon] if len(snapshot.price_per_kwh) >= horizon else ()
    v2g = any(s.v2g_max_discharge_kw > 0 for s in sessions)
    request = PlanRequest(0, slot_minutes, horizon, sessions, limits, priced,
                          degradation_per_kwh=WEAR_PER_KWH if v2g else 0.0)  # fmt: skip
    solver = previous_solve.solve if previous_solve is not None else _solve
    result = solver(request, time_limit_s)
    # Rounded as a whole: NumPy's rounding of each element, which the element-wise loop over
    # NumPy scalars (2.3 % of a loaded server's samples, holding the GIL) also used.
    rows = [tuple(row) for row in np.round(result.offered_kw(), 3).tolist()]
    allocations = tuple(
        Allocation(
            r,
            s.max_power_kw + a,
            tuple(round(a + p, 3) for p in row),
            min(0.0, a - s.v2g_max_discharge_kw),
        )  # fmt: skip
        for r, s, row in zip(planned, sessions[: len(planned)], rows[: len(planned)], strict=True)
        for a in (allowances[r.evse.key],)
    )
    reserved = tuple(
        (s.session_id, row)
        for s, row in zip(sessions[len(planned) :], rows[len(planned) :], strict=True)
    )
    return SitePlan(
        snapshot.site_id, snapshot.now, snapshot.now, slot_minutes, snapshot.grid_limit_kw,
        capacity, result.algorithm, str(result.status), result.solve_ms, allocations, idle,
        uncontrolled, reserved, {e.key: e for e in snapshot.evses},
        {k: v for k, v in allowances.items() if k in busy and k in snapshot.controllable},
    )  # fmt: skip


def _session(r: Running, allowance: float, departure_slot: int, car_kw: float) -> SessionDemand:
    """A running car as the planner sees it, on top of its EVSE's allowance. A car that may
    feed the grid may go down to minus its discharge rate (the allowance included), within its
    battery's bounds; the planner counting without the allowance it also draws keeps the
    battery above the floor."""
    v2x = r.need.v2x
    max_kw = max(0.0, car_kw - allowance)
    if v2x is None:
        return SessionDemand(str(r.tx_pk), r.need.remaining_kwh, 0, departure_slot, max_kw,
                             need_source=r.need.source)  # fmt: skip
    return SessionDemand(
        str(r.tx_pk), v2x.energy_kwh, 0, departure_slot, max_kw, need_source=r.need.source,
        v2g_max_discharge_kw=min(v2x.max_discharge_kw, r.evse.usable_kw) + allowance,
        efficiency=v2x.efficiency, battery_room_kwh=v2x.battery_room_kwh,
        discharge_room_kwh=v2x.discharge_room_kwh, surplus_kwh=v2x.surplus_kwh,
    )  # fmt: skip


def _solve(request: PlanRequest, time_limit_s: float) -> Plan:
    """The LP; least laxity first when the solver cannot answer (logged by the caller)."""
    try:
        return plan(request, time_limit_s=time_limit_s)
    except PlanningError:
        return plan_with_heuristic(request, "llf")


def limits_in_force(site_plan: SitePlan) -> float:
    """What the plan lets the site draw at most, for the safety invariant."""
    planned = (
        float(np.sum([a.limit_kw for a in site_plan.allocations])) if site_plan.allocations else 0.0
    )
    return (
        planned
        + sum(site_plan.idle_allowance_kw.values())
        + sum(site_plan.uncontrolled_kw.values())
    )
