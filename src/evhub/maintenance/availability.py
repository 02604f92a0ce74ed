"""Availability: the share of time connectors could serve a driver, from the status history.

Rules (per connector, over a period [start, end)):
- A reported state holds until the next report of the same connector. The last report before
  the period gives the state at its start.
- Faulted and Unavailable are downtime of that cause; every other reported state (Available,
  Occupied, Preparing, Charging, Suspended*, Finishing, Reserved) counts as available.
- A station-level report (EVSE 0) of Faulted or Unavailable takes all its connectors down.
- While the station is offline (an outage: out of contact past the grace period, as recorded
  by the offline tickets) its connectors are down with cause "offline", whatever they said.
- Otherwise, before a connector's first report (or while it reports "Unknown") its state is
  unknown: that time is left out of the ratio (`known_s`) and shown as `unknown_s`.

Aggregates (station, site, town) add connector-seconds, so a station with four connectors
weighs four times one with a single connector.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise

from evhub.errors import InvalidInput

OFFLINE = "offline"
DOWN_STATUSES = {"Faulted": "faulted", "Unavailable": "unavailable"}
UNKNOWN_STATUSES = frozenset({"Unknown"})

ConnectorKey = tuple[str, int, int]


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise InvalidInput("the period must end after it starts")

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True)
class StatusPoint:
    """One reported state; evse 0 (connector 0) is the station as a whole."""

    station_id: str
    evse_id: int
    connector_id: int
    status: str
    at: datetime


@dataclass(frozen=True)
class Outage:
    """The station was out of contact from `start` until `end` (None: still is)."""

    station_id: str
    start: datetime
    end: datetime | None = None

    def covers(self, t: datetime) -> bool:
        return self.start <= t and (self.end is None or t < self.end)


@dataclass(frozen=True)
class Figures:
    """Seconds of a period (summed over connectors for an aggregate)."""

    total_s: float = 0.0
    available_s: float = 0.0
    downtime_s: dict[str, float] = field(default_factory=dict)

    @property
    def unavailable_s(self) -> float:
        return sum(self.downtime_s.values())

    @property
    def known_s(self) -> float:
        return self.available_s + self.unavailable_s

    @property
    def unknown_s(self) -> float:
        return max(0.0, self.total_s - self.known_s)

    @property
    def availability_pct(self) -> float | None:
        """Available share of the known time, in percent; None when nothing is known."""
        return 100.0 * self.available_s / self.known_s if self.known_s > 0 else None

    def __add__(self, other: Figures) -> Figures:
        downtime = dict(self.downtime_s)
        for cause, seconds in other.downtime_s.items():
            downtime[cause] = downtime.get(cause, 0.0) + seconds
        return Figures(self.total_s + other.total_s, self.available_s + other.available_s, downtime)


def combine(figures: Iterable[Figures]) -> Figures:
    total = Figures()
    for f in figures:
        total = total + f
    return total


def availability(
    records: Iterable[StatusPoint],
    period: Period,
    outages: Iterable[Outage] = (),
    connectors: Iterable[ConnectorKey] = (),
) -> dict[ConnectorKey, Figures]:
    """Figures per connector: those of `connectors` and every connector with a record.

    `records` must hold, for each connector, its reports within the period and the last one
    before it, in report order (ties on the timestamp: the later in the sequence wins).
    """
    by_connector: dict[ConnectorKey, list[StatusPoint]] = {key: [] for key in connectors}
    by_station: dict[str, list[StatusPoint]] = {}
    for point in sorted(records, key=lambda p: p.at):  # stable: keeps the report order
        if point.evse_id == 0:
            by_station.setdefault(point.station_id, []).append(point)
        else:
            key = (point.station_id, point.evse_id, point.connector_id)
            by_connector.setdefault(key, []).append(point)
    outages_of: dict[str, list[Outage]] = {}
    for outage in outages:
        outages_of.setdefault(outage.station_id, []).append(outage)
    return {
        key: _connector_figures(
            _Timeline(points),
            _Timeline(by_station.get(key[0], [])),
            outages_of.get(key[0], []),
            period,
        )
        for key, points in by_connector.items()
    }


class _Timeline:
    """The state in force at any time, from time-ordered reports."""

    def __init__(self, points: Sequence[StatusPoint]) -> None:
        self.points = points
        self.times = [p.at for p in points]

    def at(self, t: datetime) -> str | None:
        i = bisect.bisect_right(self.times, t)
        return self.points[i - 1].status if i else None


def _connector_figures(
    own: _Timeline, station: _Timeline, outages: list[Outage], period: Period
) -> Figures:
    cuts = {period.start, period.end}
    cuts.update(t for t in own.times + station.times if period.start < t < period.end)
    for outage in outages:
        cuts.update(
            t for t in (outage.start, outage.end) if t is not None and period.start < t < period.end
        )
    available = 0.0
    downtime: dict[str, float] = {}
    for a, b in pairwise(sorted(cuts)):
        state = _state(a, own, station, outages)
        seconds = (b - a).total_seconds()
        if state == "available":
            available += seconds
        elif state is not None:
            downtime[state] = downtime.get(state, 0.0) + seconds
    return Figures(period.seconds, available, downtime)


def _state(t: datetime, own: _Timeline, station: _Timeline, outages: list[Outage]) -> str | None:
    """ "available", a downtime cause, or None (unknown) at time t, by the module's rules."""
    if any(o.covers(t) for o in outages):
        return OFFLINE
    station_status = station.at(t)
    if station_status in DOWN_STATUSES:
        return DOWN_STATUSES[station_status]
    status = own.at(t)
    if status is None or status in UNKNOWN_STATUSES:
        return None
    return DOWN_STATUSES.get(status, "available")
