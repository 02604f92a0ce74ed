"""The pricing engine: an OCPI 2.2.1 Tariff applied to the charging periods of a CDR.

Pure: no I/O, no clock. The rules, from the Tariffs chapter (§11) and the CDR chapter (§10)
of the 2.2.1-bugfixes text:

- Periods. Charging period i lasts until period i+1 starts, the last one until the CDR ends
  (§10.4.6). A period with a RESERVATION_TIME dimension is reservation time; the others are the
  charging session. When no charging period follows the reservation, the reservation expired.
- Slices. A period is cut wherever a restriction of the tariff can change inside it (local
  time-of-day edges, local midnights, daylight-saving shifts, min/max_duration, min/max_kwh);
  its volumes are shared in proportion to time, energy at a constant rate within the period.
  A CDR that already starts a period at each such instant (§10.3.1, "ChargingPeriod") is priced
  exactly as written.
- Selection (§11.3.1). Per dimension, the first element whose restrictions hold and which has a
  component of that dimension prices the slice. Reservation time is priced only by elements
  with a `reservation` restriction (by RESERVATION_EXPIRES ones first when it expired, §11.4.3),
  the session only by elements without one. TIME prices RESERVATION_TIME in a reservation.
  min/max_duration count from the start of the session (of the reservation for reservation
  time), min/max_kwh from its first kWh. A current or power restriction holds only when the
  period shows it does (its MIN_/MAX_ dimensions, else its mean; power also from energy over
  charging time); a period that delivers nothing draws no current.
- Volumes. A period's TIME, PARKING_TIME and RESERVATION_TIME are taken as written, except that
  a period with one of them only, within 1.8 s of its length, is billed for its exact length
  (hours written with 3-4 decimals must not bill a fraction of a second as a whole step). A
  period with no time dimension at all is charging time (TIME) for its whole length.
- FLAT is billed once for the session and once for the reservation: the first FLAT component
  active in each.
- step_size (§10.3.1 "step_size", §11.4.2) is applied once per session to the total billed
  amount: ENERGY with the step of the last ENERGY component used; PARKING_TIME when parking
  was billed, else TIME, with the step of the last one used; the reservation time apart. The
  amount added by rounding is billed at that last component's price.
- min_price and max_price (§11.3.1) bound the total cost, excl. and incl. VAT each; the parts
  stay what the tariff priced. A bound without incl_vat bounds incl. VAT by its excl. amount.

Amounts are rounded to 4 decimals (half up), OCPI's `number` precision, once per part (after
settling to 9 decimals the last-digit error of dividing by 3600 and of sharing periods); the
total is the sum of the rounded parts before min/max. Quantities are rounded the same way;
total_time is the session's length (reservation excluded, so that total_time - total_parking_time
is the charging time, §10.3.1 note), total_parking_time the PARKING_TIME written.
The tariff's start/end_date_time are not checked here: choosing the tariff is `tariff_for`'s job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from evhub.billing.restrictions import Conditions, matches, split_instants
from evhub.billing.tariff import (
    CdrDimensionType,
    CdrDraft,
    ChargingPeriod,
    Price,
    PriceComponent,
    ReservationRestrictionType,
    TariffBody,
    TariffDimensionType,
    TariffElement,
)

HOUR_S = Decimal(3600)
PLACES = Decimal("0.0001")
# Shares of a period and divisions by 3600 leave an error in the 28th digit; amounts and totals
# are settled to this before they are rounded or stepped, so that 1800 s cut in thirds is still
# 1800 s (not a hair above, which a step would bill as a whole step more).
SETTLED = Decimal("1e-9")
ZERO = Decimal(0)
# A time volume within this of its period's length is that length: OCPI numbers carry hours
# to 3-4 decimals (a few tenths of a second), and a step of 1 s must not bill the rounding.
SNAP_S = Decimal("1.8")
Dim = CdrDimensionType
Kind = TariffDimensionType


class Part(StrEnum):
    """Where a priced line is totalled (OCPI 2.2.1 §10.3.1, the CDR's total_* fields)."""

    ENERGY = "energy"
    TIME = "time"
    PARKING = "parking"
    FIXED = "fixed"
    RESERVATION = "reservation"


@dataclass(frozen=True)
class Cost:
    excl_vat: Decimal
    incl_vat: Decimal

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.excl_vat + other.excl_vat, self.incl_vat + other.incl_vat)

    def rounded(self) -> Cost:
        return Cost(_round(self.excl_vat), _round(self.incl_vat))


NO_COST = Cost(ZERO, ZERO)


@dataclass(frozen=True)
class Costs:
    """The CDR's totals (OCPI 2.2.1 §10.3.1): amounts in the tariff's currency, energy in kWh,
    times in hours."""

    total_cost: Cost
    total_energy_cost: Cost
    total_time_cost: Cost
    total_parking_cost: Cost
    total_fixed_cost: Cost
    total_reservation_cost: Cost
    total_energy: Decimal
    total_time: Decimal
    total_parking_time: Decimal


@dataclass(frozen=True)
class CdrPeriods:
    """The charging periods of a CDR, the instant the last one ends, and the CDR's start (the
    session's, when no reservation comes first; else the first charging period's start)."""

    periods: Sequence[ChargingPeriod]
    end_date_time: datetime
    start_date_time: datetime | None = None

    @classmethod
    def of(cls, cdr: CdrDraft) -> CdrPeriods:
        return cls(tuple(cdr.charging_periods), cdr.end_date_time, cdr.start_date_time)


@dataclass(frozen=True)
class _Slice:
    start: datetime
    end: datetime
    energy_kwh: Decimal
    time_s: Decimal
    parking_s: Decimal
    reservation_s: Decimal
    reservation: bool
    current_a: tuple[Decimal, Decimal] | None
    power_kw: tuple[Decimal, Decimal] | None

    @property
    def duration_s(self) -> Decimal:
        return _seconds(self.end - self.start)

    def share(self, start: datetime, end: datetime, fraction: Decimal) -> _Slice:
        return replace(
            self,
            start=start,
            end=end,
            energy_kwh=self.energy_kwh * fraction,
            time_s=self.time_s * fraction,
            parking_s=self.parking_s * fraction,
            reservation_s=self.reservation_s * fraction,
        )


@dataclass(frozen=True)
class _Line:
    """An amount of one dimension billed at one component: kWh, seconds, or 1 for FLAT."""

    part: Part
    component: PriceComponent
    quantity: Decimal

    def cost(self) -> Cost:
        price = self.component.price
        if self.component.type is Kind.FLAT:
            excl = price
        elif self.component.type is Kind.ENERGY:
            excl = price * self.quantity
        else:
            excl = price * self.quantity / HOUR_S
        vat = self.component.vat
        return Cost(excl, excl if vat is None else excl * (1 + vat / 100))


def price(tariff: TariffBody, cdr_periods: CdrPeriods, time_zone: str | ZoneInfo) -> Costs:
    """The costs of the periods under `tariff`, its restrictions read in `time_zone`."""
    tz = ZoneInfo(time_zone) if isinstance(time_zone, str) else time_zone
    slices = _slices(cdr_periods)
    reserved = [s for s in slices if s.reservation]
    charged = [s for s in slices if not s.reservation]
    lines = _price_reservation(tariff.elements, reserved, not charged, tz)
    origin = charged[0].start if charged else cdr_periods.end_date_time
    if not reserved and cdr_periods.start_date_time is not None:
        origin = cdr_periods.start_date_time
    lines += _price_session(tariff.elements, charged, origin, tz)
    parts = {part: NO_COST for part in Part}
    for line in lines:
        parts[line.part] += line.cost()
    rounded = {part: cost.rounded() for part, cost in parts.items()}
    total = sum(rounded.values(), NO_COST)
    session_s = _seconds(cdr_periods.end_date_time - origin) if charged else ZERO
    return Costs(
        total_cost=_bounded(total, tariff.min_price, tariff.max_price),
        total_energy_cost=rounded[Part.ENERGY],
        total_time_cost=rounded[Part.TIME],
        total_parking_cost=rounded[Part.PARKING],
        total_fixed_cost=rounded[Part.FIXED],
        total_reservation_cost=rounded[Part.RESERVATION],
        total_energy=_round(sum((s.energy_kwh for s in slices), ZERO)),
        total_time=_round(session_s / HOUR_S),
        total_parking_time=_round(sum((s.parking_s for s in charged), ZERO) / HOUR_S),
    )


def price_cdr(tariff: TariffBody, cdr: CdrDraft, time_zone: str | ZoneInfo) -> Costs:
    """`price` for a whole CDR, whose currency, when it says one, must be the tariff's."""
    if cdr.currency is not None and cdr.currency != tariff.currency:
        raise ValueError(f"the CDR is in {cdr.currency}, the tariff in {tariff.currency}")
    return price(tariff, CdrPeriods.of(cdr), time_zone)


def _price_reservation(
    elements: list[TariffElement], slices: list[_Slice], expired: bool, tz: ZoneInfo
) -> list[_Line]:
    """Reservation time: TIME components price RESERVATION_TIME (OCPI 2.2.1 §11.4.6,
    `reservation`); RESERVATION_EXPIRES elements come first for a reservation that expired."""
    kinds = [ReservationRestrictionType.RESERVATION]
    if expired:
        kinds.insert(0, ReservationRestrictionType.RESERVATION_EXPIRES)
    chosen = [
        e
        for kind in kinds
        for e in elements
        if e.restrictions and e.restrictions.reservation == kind
    ]
    lines = _price_part(chosen, slices, tz, reservation=True)
    _round_up(lines, Part.RESERVATION, Kind.TIME)
    return lines


def _price_session(
    elements: list[TariffElement], slices: list[_Slice], origin: datetime, tz: ZoneInfo
) -> list[_Line]:
    """The charging session, then step_size once per session (OCPI 2.2.1 §10.3.1): for energy,
    and for parking if parking was billed, else for charging time."""
    chosen = [e for e in elements if e.restrictions is None or e.restrictions.reservation is None]
    lines = _price_part(chosen, slices, tz, reservation=False, origin=origin)
    _round_up(lines, Part.ENERGY, Kind.ENERGY)
    if any(line.part is Part.PARKING for line in lines):
        _round_up(lines, Part.PARKING, Kind.PARKING_TIME)
    else:
        _round_up(lines, Part.TIME, Kind.TIME)
    return lines


def _price_part(
    elements: list[TariffElement],
    slices: list[_Slice],
    tz: ZoneInfo,
    reservation: bool,
    origin: datetime | None = None,
) -> list[_Line]:
    """Price each slice of one part; durations count from `origin` (its first period's start
    unless given)."""
    if not slices:
        return []
    origin = origin or slices[0].start
    lines: list[_Line] = []
    flat_billed = False
    energy_before = ZERO
    for period in slices:
        for piece, at_kwh in _cut(period, elements, origin, energy_before, tz):
            middle = piece.start + (piece.end - piece.start) / 2
            conditions = Conditions(
                at=middle,
                elapsed_s=_seconds(middle - origin),
                energy_kwh=at_kwh,
                current_a=piece.current_a,
                power_kw=piece.power_kw,
            )
            active = _active(elements, conditions, tz)
            if not flat_billed and Kind.FLAT in active:
                part = Part.RESERVATION if reservation else Part.FIXED
                lines.append(_Line(part, active[Kind.FLAT], Decimal(1)))
                flat_billed = True
            for part, kind, quantity in _quantities(piece, reservation):
                if kind in active and quantity > 0:
                    lines.append(_Line(part, active[kind], quantity))
        energy_before += period.energy_kwh
    return lines


def _quantities(piece: _Slice, reservation: bool) -> list[tuple[Part, Kind, Decimal]]:
    if reservation:
        return [(Part.RESERVATION, Kind.TIME, piece.reservation_s)]
    return [
        (Part.ENERGY, Kind.ENERGY, piece.energy_kwh),
        (Part.TIME, Kind.TIME, piece.time_s),
        (Part.PARKING, Kind.PARKING_TIME, piece.parking_s),
    ]


def _active(
    elements: list[TariffElement], conditions: Conditions, tz: ZoneInfo
) -> dict[Kind, PriceComponent]:
    """OCPI 2.2.1 §11.3.1: per dimension, the first matching element with such a component."""
    active: dict[Kind, PriceComponent] = {}
    for element in elements:
        if len(active) == len(Kind):
            break
        if not matches(element.restrictions, conditions, tz):
            continue
        for component in element.price_components:
            active.setdefault(component.type, component)
    return active


def _cut(
    period: _Slice,
    elements: list[TariffElement],
    origin: datetime,
    energy_before: Decimal,
    tz: ZoneInfo,
) -> list[tuple[_Slice, Decimal]]:
    """The period in slices over which no restriction changes, each with the session's energy
    at its middle."""
    duration = period.duration_s
    points: dict[Decimal, datetime] = {ZERO: period.start, Decimal(1): period.end}
    if duration > 0:
        instants = split_instants(elements, period.start, period.end, tz)
        for r in (e.restrictions for e in elements if e.restrictions):
            for limit_s in (r.min_duration, r.max_duration):
                if limit_s is not None:
                    instants.append(origin + _timedelta(Decimal(limit_s)))
        for t in instants:
            if period.start < t < period.end:
                points.setdefault(_seconds(t - period.start) / duration, t)
    if period.energy_kwh > 0:
        for r in (e.restrictions for e in elements if e.restrictions):
            for limit_kwh in (r.min_kwh, r.max_kwh):
                if limit_kwh is not None and energy_before < limit_kwh:
                    f = (limit_kwh - energy_before) / period.energy_kwh
                    if f < 1:
                        points.setdefault(f, period.start + _timedelta(duration * f))
    edges = sorted(points.items())
    pieces = []
    for (f0, t0), (f1, t1) in zip(edges, edges[1:], strict=False):
        at_kwh = energy_before + period.energy_kwh * (f0 + f1) / 2
        pieces.append((period.share(t0, t1, f1 - f0), at_kwh))
    return pieces


def _round_up(lines: list[_Line], part: Part, kind: Kind) -> None:
    """Bill the total of `part` in whole steps of its last component (OCPI 2.2.1 §11.4.2):
    the amount the rounding adds goes at that component's price."""
    billed = [line for line in lines if line.part is part and line.component.type is kind]
    if not billed or billed[-1].component.step_size == 0:
        return
    last = billed[-1].component
    unit = Decimal(1000) if kind is Kind.ENERGY else Decimal(1)  # kWh to Wh; seconds
    total = _settle(sum((line.quantity for line in billed), ZERO) * unit)
    step = Decimal(last.step_size)
    extra = (total / step).to_integral_value(ROUND_CEILING) * step - total
    if extra > 0:
        lines.append(_Line(part, last, extra / unit))


def _slices(cdr_periods: CdrPeriods) -> list[_Slice]:
    periods = list(cdr_periods.periods)
    ends = [p.start_date_time for p in periods[1:]] + [cdr_periods.end_date_time]
    return [_slice(p, end) for p, end in zip(periods, ends, strict=True)]


def _slice(period: ChargingPeriod, end: datetime) -> _Slice:
    """One charging period's volumes in kWh and seconds. A period with no time dimension at all
    is charging time for its whole length (OCPI 2.2.1 §10.4.3: TIME is time charging)."""
    dims = {d.type: d.volume for d in period.dimensions}
    duration = _seconds(end - period.start_date_time)
    times = {
        k: dims[k] * HOUR_S for k in (Dim.TIME, Dim.PARKING_TIME, Dim.RESERVATION_TIME) if k in dims
    }
    if len(times) == 1:
        ((kind, seconds),) = times.items()
        if abs(seconds - duration) <= SNAP_S:
            times[kind] = duration
    if not times:
        times[Dim.TIME] = duration
    energy = dims.get(Dim.ENERGY, ZERO)
    time_s = times.get(Dim.TIME, ZERO)
    charging = energy > 0 or time_s > 0
    power = _range(dims, Dim.MIN_POWER, Dim.MAX_POWER, Dim.POWER)
    if power is None and Dim.ENERGY in dims and time_s > 0:
        mean = energy * HOUR_S / time_s
        power = (mean, mean)
    current = _range(dims, Dim.MIN_CURRENT, Dim.MAX_CURRENT, Dim.CURRENT)
    idle = (ZERO, ZERO)
    return _Slice(
        start=period.start_date_time,
        end=end,
        energy_kwh=energy,
        time_s=time_s,
        parking_s=times.get(Dim.PARKING_TIME, ZERO),
        reservation_s=times.get(Dim.RESERVATION_TIME, ZERO),
        reservation=Dim.RESERVATION_TIME in dims,
        current_a=current if current is not None or charging else idle,
        power_kw=power if power is not None or charging else idle,
    )


def _range(
    dims: dict[Dim, Decimal], low: Dim, high: Dim, mean: Dim
) -> tuple[Decimal, Decimal] | None:
    """(lowest, highest) of a quantity from what the period reports of it: its minimum and
    maximum, else its mean or the other extreme."""
    known = [dims[k] for k in (low, high, mean) if k in dims]
    if not known:
        return None
    return dims.get(low, min(known)), dims.get(high, max(known))


def _bounded(total: Cost, low: Price | None, high: Price | None) -> Cost:
    """OCPI 2.2.1 §11.3.1 notes: min_price and max_price each hold excl. and incl. VAT."""
    excl, incl = total.excl_vat, total.incl_vat
    if low is not None:
        excl = max(excl, low.excl_vat)
        incl = max(incl, low.excl_vat if low.incl_vat is None else low.incl_vat)
    if high is not None:
        excl = min(excl, high.excl_vat)
        incl = min(incl, high.excl_vat if high.incl_vat is None else high.incl_vat)
    return Cost(excl, incl).rounded()


def _round(value: Decimal) -> Decimal:
    return _settle(value).quantize(PLACES, rounding=ROUND_HALF_UP)


def _settle(value: Decimal) -> Decimal:
    return value.quantize(SETTLED, rounding=ROUND_HALF_EVEN)


def _seconds(delta: timedelta) -> Decimal:
    return Decimal(delta.days * 86400 + delta.seconds) + Decimal(delta.microseconds) / 10**6


def _timedelta(seconds: Decimal) -> timedelta:
    return timedelta(seconds=float(seconds))
