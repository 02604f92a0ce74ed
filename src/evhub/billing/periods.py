"""Charging periods of a CDR from a transaction's meter readings (OCPI 2.2.1 §10.4.6).

Pure: readings in, periods out. Between two energy register readings the EV is charging when
the register rose, else parked (OCPI 2.2.1 §10.4.3: TIME is time charging, PARKING_TIME time
not charging). A new period starts wherever that state changes and wherever a restriction of
the tariff can change its truth (local times of day, local midnights and DST shifts, min/max
duration, min/max kWh): each period is then priced by one set of tariff elements. Energy
between two readings is spread at a constant rate, as the pricing engine assumes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from evhub.billing.restrictions import split_instants
from evhub.billing.tariff import CdrDimension, CdrDimensionType, ChargingPeriod, TariffElement

_HOUR_S = Decimal(3600)
_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class Reading:
    """The energy import register at an instant, in Wh."""

    at: datetime
    register_wh: int


@dataclass(frozen=True)
class _Piece:
    start: datetime
    end: datetime
    energy_wh: Decimal

    @property
    def charging(self) -> bool:
        return self.energy_wh > 0


def charging_periods(
    start: datetime,
    end: datetime,
    readings: Sequence[Reading],
    elements: Sequence[TariffElement],
    tz: ZoneInfo,
) -> list[ChargingPeriod]:
    """The periods of a session from `start` to `end`; `readings` include its meter start and
    stop. A session without time or energy still has one period (OCPI: at least one)."""
    points = _points(start, end, readings)
    pieces = [
        _Piece(a.at, b.at, Decimal(max(0, b.register_wh - a.register_wh)))
        for a, b in zip(points, points[1:], strict=False)
        if b.at > a.at
    ]
    cuts = set(_tariff_edges(start, end, pieces, list(elements), tz))
    pieces = [p for piece in pieces for p in _cut(piece, cuts)]
    merged: list[_Piece] = []
    for piece in pieces:
        last = merged[-1] if merged else None
        if last is not None and last.charging == piece.charging and piece.start not in cuts:
            merged[-1] = _Piece(last.start, piece.end, last.energy_wh + piece.energy_wh)
        else:
            merged.append(piece)
    if not merged:  # a session of no length: what the register says it drew, if anything
        drawn = points[-1].register_wh - points[0].register_wh if points else 0
        merged = [_Piece(start, end, Decimal(max(0, drawn)))]
    return [_period(p) for p in merged]


def _points(start: datetime, end: datetime, readings: Sequence[Reading]) -> list[Reading]:
    """The readings within the session in time order, the register never going back (a meter
    that reads lower than before is a fault, not a discharge that a CDR prices)."""
    inside = sorted((r for r in readings if start <= r.at <= end), key=lambda r: r.at)
    if not inside:
        return []
    first = inside[0]
    if first.at > start:
        inside.insert(0, Reading(start, first.register_wh))
    if inside[-1].at < end:
        inside.append(Reading(end, inside[-1].register_wh))
    points: list[Reading] = []
    highest = inside[0].register_wh
    for r in inside:
        highest = max(highest, r.register_wh)
        if points and points[-1].at == r.at:
            # Readings of one instant: the later one stands, but the first instant keeps its
            # meter start, so that a rise stamped at the start (stations stamp in whole
            # seconds) is counted in the piece after it, never lost.
            if len(points) > 1:
                points[-1] = Reading(r.at, highest)
            continue
        points.append(Reading(r.at, highest))
    if len(points) == 1 and highest > points[0].register_wh:
        points.append(Reading(points[0].at, highest))  # a session of no length that drew
    return points


def _tariff_edges(
    start: datetime,
    end: datetime,
    pieces: list[_Piece],
    elements: list[TariffElement],
    tz: ZoneInfo,
) -> list[datetime]:
    """Instants inside the session where a restriction of the tariff can change."""
    edges = split_instants(elements, start, end, tz)
    restrictions = [e.restrictions for e in elements if e.restrictions is not None]
    for r in restrictions:
        for limit_s in (r.min_duration, r.max_duration):
            if limit_s is not None:
                edges.append(start + timedelta(seconds=limit_s))
    limits_wh = sorted(
        {Decimal(k) * 1000 for r in restrictions for k in (r.min_kwh, r.max_kwh) if k is not None}
    )
    before = Decimal(0)
    for piece in pieces:
        for limit in limits_wh:
            if before < limit < before + piece.energy_wh:
                share = (limit - before) / piece.energy_wh
                edges.append(piece.start + (piece.end - piece.start) * float(share))
        before += piece.energy_wh
    return [t for t in edges if start < t < end]


def _cut(piece: _Piece, cuts: set[datetime]) -> list[_Piece]:
    inner = sorted(t for t in cuts if piece.start < t < piece.end)
    if not inner:
        return [piece]
    span = Decimal((piece.end - piece.start).total_seconds())
    bounds = [piece.start, *inner, piece.end]
    out = []
    for a, b in zip(bounds, bounds[1:], strict=False):
        share = Decimal((b - a).total_seconds()) / span
        out.append(_Piece(a, b, piece.energy_wh * share))
    return out


def _period(piece: _Piece) -> ChargingPeriod:
    hours = _round(Decimal((piece.end - piece.start).total_seconds()) / _HOUR_S)
    dims = [CdrDimension(type=CdrDimensionType.ENERGY, volume=_round(piece.energy_wh / 1000))]
    kind = CdrDimensionType.TIME if piece.charging else CdrDimensionType.PARKING_TIME
    dims.append(CdrDimension(type=kind, volume=hours))
    return ChargingPeriod(start_date_time=piece.start, dimensions=dims)


def _round(value: Decimal) -> Decimal:
    return value.quantize(_PLACES, rounding=ROUND_HALF_UP)
