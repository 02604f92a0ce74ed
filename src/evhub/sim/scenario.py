"""A day at a hub: visitors by day, residents overnight, deterministic from a seed.

`generate_day` draws the sessions (who comes when, stays how long, needs how much energy);
`run_day` plays them against simulated stations on an injectable clock, so the demo can compress
a day into minutes with an `AcceleratedClock` and tests can run it instantly on a `FrozenClock`.
"""

from __future__ import annotations

import heapq
import inspect
import math
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal

from evhub.clock import Clock
from evhub.sim.ev import SimEV
from evhub.sim.station import ConnectorState, SimError, SimStation


@dataclass(frozen=True)
class EvModel:
    name: str
    battery_kwh: float
    max_ac_kw: float
    ac_phases: int
    max_dc_kw: float


EV_MODELS = (
    EvModel("compact", 42.0, 7.4, 1, 50.0),
    EvModel("family", 64.0, 11.0, 3, 100.0),
    EvModel("suv", 82.0, 11.0, 3, 150.0),
    EvModel("van", 75.0, 22.0, 3, 80.0),
)

SessionKind = Literal["visitor", "resident"]


@dataclass(frozen=True)
class SessionPlan:
    """One planned visit: when the car comes and goes, who it is and what the driver declares."""

    session_id: str
    kind: SessionKind
    arrival: datetime
    departure: datetime
    id_token: str
    energy_kwh: float
    dc: bool
    model: EvModel
    arrival_soc: float

    def make_ev(self) -> SimEV:
        """A fresh car for this session; it stops taking power once the declared need is in."""
        battery = self.model.battery_kwh
        return SimEV(
            battery_kwh=battery,
            soc=self.arrival_soc,
            target_soc=min(1.0, self.arrival_soc + self.energy_kwh / battery),
            max_ac_kw=self.model.max_ac_kw,
            ac_phases=self.model.ac_phases,
            max_dc_kw=self.model.max_dc_kw,
            departure=self.departure,
            declared_energy_kwh=self.energy_kwh,
            name=self.session_id,
        )


def _at(day: date, hours: float, tz: tzinfo) -> datetime:
    local = datetime.combine(day, time(), tzinfo=tz) + timedelta(hours=hours)
    return local.astimezone(UTC).replace(microsecond=0)


def _draw(
    rng: random.Random,
    session_id: str,
    kind: SessionKind,
    token: str,
    dc: bool,
    arrival: datetime,
    stay_h: float,
    need_kwh: tuple[float, float],
) -> SessionPlan:
    model = rng.choice(EV_MODELS)
    soc = round(rng.uniform(0.1, 0.6), 3)
    room_kwh = (1.0 - soc) * model.battery_kwh
    energy = math.floor(min(rng.uniform(*need_kwh), room_kwh) * 10) / 10  # 0.1 kWh, never over
    departure = (arrival + timedelta(hours=stay_h)).replace(microsecond=0)
    return SessionPlan(session_id, kind, arrival, departure, token, energy, dc, model, soc)


def generate_day(
    day: date,
    tokens: Sequence[str],
    *,
    visitors: int = 24,
    residents: int = 8,
    seed: int = 0,
    tz: tzinfo = UTC,
    dc_share: float = 0.25,
) -> list[SessionPlan]:
    """Sessions of one day, sorted by arrival (times in UTC, drawn in the site's `tz`).

    Visitors arrive 09:00-20:00 and stay 0.5-3 h needing 5-30 kWh on AC, or (`dc_share` of them)
    15-45 min needing 10-30 kWh on DC. Residents arrive 17:00-22:00, leave 07:00-09:00 the next
    day and need 10-40 kWh. Residents keep the first tokens, visitors cycle through the rest.
    """
    if not tokens:
        raise ValueError("at least one token is needed")
    rng = random.Random(seed)
    visitor_tokens = list(tokens[residents:]) or list(tokens)
    plans: list[SessionPlan] = []
    for n in range(residents):
        arrival = _at(day, rng.uniform(17.0, 22.0), tz)
        leave = _at(day + timedelta(days=1), rng.uniform(7.0, 9.0), tz)
        stay_h = (leave - arrival).total_seconds() / 3600.0
        token = tokens[n % len(tokens)]
        plans.append(_draw(rng, f"r{n:02d}", "resident", token, False, arrival, stay_h, (10, 40)))
    for n in range(visitors):
        arrival = _at(day, rng.uniform(9.0, 20.0), tz)
        dc = rng.random() < dc_share
        stay_h = rng.uniform(0.25, 0.75) if dc else rng.uniform(0.5, 3.0)
        need = (10.0, 30.0) if dc else (5.0, 30.0)
        token = visitor_tokens[n % len(visitor_tokens)]
        plans.append(_draw(rng, f"v{n:02d}", "visitor", token, dc, arrival, stay_h, need))
    return sorted(plans, key=lambda p: (p.arrival, p.session_id))


@dataclass(frozen=True)
class ScenarioEvent:
    kind: Literal["arrived", "departed", "turned_away"]
    at: datetime
    session: SessionPlan
    station_id: str | None = None
    evse_id: int | None = None
    transaction_id: str | None = None


EventHandler = Callable[[ScenarioEvent], Awaitable[None] | None]
_Spot = tuple[SimStation, int]


def _free_spot(
    stations: Sequence[SimStation], dc: bool, taken: set[tuple[str, int]]
) -> _Spot | None:
    """A free EVSE of the wanted kind, else any free EVSE (a DC driver settles for AC)."""
    free = [
        (station, evse)
        for station in stations
        for evse in station.evses.values()
        if evse.ev is None
        and evse.operative
        and (station.station_id, evse.evse_id) not in taken
        and evse.state in (ConnectorState.AVAILABLE, ConnectorState.FINISHING)
    ]
    preferred = [spot for spot in free if spot[1].spec.dc == dc]
    candidates = preferred or free
    if not candidates:
        return None
    station, evse = candidates[0]
    return station, evse.evse_id


async def run_day(
    stations: Sequence[SimStation],
    clock: Clock,
    sessions: Sequence[SessionPlan],
    on_event: EventHandler | None = None,
    until: datetime | None = None,
    booked: Mapping[str, tuple[str, int]] | None = None,
) -> list[ScenarioEvent]:
    """Plug each session in at its arrival and unplug it at its departure, on `clock` time.

    A session with a booking (`booked`: session id -> station id, EVSE id) parks on the booked
    EVSE when it can. Cars still parked at `until` are unplugged then. Returns every event.
    """
    queue: list[tuple[datetime, int, str, SessionPlan]] = [
        (s.arrival, n, "arrive", s) for n, s in enumerate(sessions)
    ]
    heapq.heapify(queue)
    parked: dict[str, _Spot] = {}
    events: list[ScenarioEvent] = []
    counter = len(queue)
    while queue:
        at, _, action, session = heapq.heappop(queue)
        if until is not None and at > until:
            at, queue = until, [q for q in queue if q[2] == "depart"]
            heapq.heapify(queue)
            if action != "depart":
                continue
        wait_s = (at - clock.now()).total_seconds()
        if wait_s > 0:
            await clock.sleep(wait_s)
        if action == "arrive":
            spot = (booked or {}).get(session.session_id)
            event = await _arrive(stations, session, parked, clock.now(), spot)
            if event.kind == "arrived":
                counter += 1
                heapq.heappush(queue, (session.departure, counter, "depart", session))
        else:
            event = await _depart(session, parked, clock.now())
        events.append(event)
        if on_event is not None:
            result = on_event(event)
            if inspect.isawaitable(result):
                await result
    return events


def _booked_spot(
    stations: Sequence[SimStation], booked: tuple[str, int] | None, taken: set[tuple[str, int]]
) -> _Spot | None:
    """The EVSE the driver booked, if it is there and nobody else is parked on it."""
    if booked is None or booked in taken:
        return None
    station = next((st for st in stations if st.station_id == booked[0]), None)
    if station is None or booked[1] not in station.evses or station.evse(booked[1]).ev is not None:
        return None
    return station, booked[1]


async def _arrive(
    stations: Sequence[SimStation],
    session: SessionPlan,
    parked: dict[str, _Spot],
    now: datetime,
    booked: tuple[str, int] | None = None,
) -> ScenarioEvent:
    taken = {(st.station_id, evse_id) for st, evse_id in parked.values()}
    spot = _booked_spot(stations, booked, taken) or _free_spot(stations, session.dc, taken)
    if spot is None:
        return ScenarioEvent("turned_away", now, session)
    station, evse_id = spot
    try:
        tx = await station.plug_in(evse_id, session.make_ev(), session.id_token)
    except SimError:
        return ScenarioEvent("turned_away", now, session, station.station_id, evse_id)
    parked[session.session_id] = spot
    return ScenarioEvent("arrived", now, session, station.station_id, evse_id, tx)


async def _depart(session: SessionPlan, parked: dict[str, _Spot], now: datetime) -> ScenarioEvent:
    station, evse_id = parked.pop(session.session_id)
    tx = station.evse(evse_id).transaction_id
    try:
        await station.unplug(evse_id)
    except SimError:
        pass  # the station is silent or restarting; the car leaves anyway
    return ScenarioEvent("departed", now, session, station.station_id, evse_id, tx)
