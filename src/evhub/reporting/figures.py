"""The month's figures of one scope (a site, a town, the network), and how they add up.

Methods, stated in every report:
- A session belongs to the month it starts in; its energy is its meter difference.
- Hours plugged: each session's time from start to stop, cut to the month.
- Hours charging: time connectors reported `Charging` (OCPP status), cut to the month.
- Occupancy: hours plugged over the point-hours of the month (points = EVSEs).
- Availability: the share of known connector time not down (maintenance/availability.py:
  Faulted, Unavailable and station outages are all down).
- Uptime (AFIR, Regulation (EU) 2023/1804 art. 5 and its delegated act): as availability, but
  time a point was set `Unavailable` (planned maintenance, an operator's ChangeAvailability)
  is left out of the base instead of counted as down.
- Revenue excl. VAT (`revenue.py`): charging, by the driver's plan, from the CDRs of the
  sessions started in the month (credits negative, so a corrected charge counts as corrected);
  reservation fees of the bookings starting in the month, priced as invoices price them;
  car-sharing fees of the trips ended in the month; V2G credits (negative) of the sessions
  started in the month; and, in the network's figures of a report of the whole network only,
  the month's plan fees and our drivers' charges on partner networks, by plan. Each amount
  with its currency; currencies are never added together.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TypeVar

from evhub.maintenance.availability import Figures

PLANNED_CAUSE = "unavailable"
# The methods as every report states them (PDF, JSON, console), the CO2 factors apart.
METHODS = (
    "Sessions are counted in the month they start; energy is each session's meter difference.",
    "Unique drivers: each driver (or token of no driver) once per scope, by user group.",
    "Occupancy: hours plugged over the points' hours in the month (a point is an EVSE).",
    "Availability: share of the known connector time not Faulted, Unavailable or off line.",
    "Uptime (AFIR, Regulation (EU) 2023/1804): as availability, with planned maintenance "
    "(points set Unavailable by the operator) left out of the base instead of counted as down.",
    "Revenue excl. VAT, from billing: the CDRs of the sessions started in the month by the "
    "driver's plan (credits deducted; roaming: tokens of no driver of ours), the reservation "
    "fees of the bookings starting in it at invoiced prices, and the car-sharing fees of trips "
    "ended in it.",
    "V2G credits: what the sessions started in the month that fed the grid credit their "
    "drivers, deducted where they charged. Plan fees (each driver's monthly fee, by plan) and "
    "our drivers' charges on partner networks (ended in the month, at the plan's roaming "
    "price) belong to no site or town: they count in the whole network's figures only, not "
    "in a town's, a site's or a report limited to some towns. An invoiced line counts as "
    "billed, one not invoiced yet as its invoice will bill it; each line once.",
)
K = TypeVar("K")


@dataclass
class ScopeFigures:
    """Additive figures of one scope; sets keep unique drivers exact when scopes add up."""

    kind: str  # network | town | site
    town: str
    site_id: int | None
    site_name: str
    points: int = 0
    hours_in_month: float = 0.0
    sessions: int = 0
    drivers: dict[str, set[str]] = field(default_factory=dict)  # user group -> driver keys
    energy_wh: int = 0
    plugged_s: float = 0.0
    charging_s: float = 0.0
    availability: Figures = field(default_factory=Figures)
    tickets_opened: Counter[str] = field(default_factory=Counter)
    tickets_closed: int = 0
    repair_s: float = 0.0
    tickets_open_at_end: int = 0
    bookings: int = 0
    booking_fee_rules: Counter[str] = field(default_factory=Counter)
    trips: int = 0
    trip_km: float = 0.0
    carsharing_fees: dict[str, Decimal] = field(default_factory=dict)
    # Revenue excl. VAT: charging per (plan, currency), reservation fees per currency; the
    # sites' currencies, so that a scope with no revenue says 0 in its own.
    charging_by_plan: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    reservation_fees: dict[str, Decimal] = field(default_factory=dict)
    v2g_credits: dict[str, Decimal] = field(default_factory=dict)  # negative
    # Of no site: set on the network of a whole-network report only, never added up from sites.
    plan_fees_by_plan: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    partner_charging_by_plan: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    currencies: set[str] = field(default_factory=set)
    daily_energy_wh: Counter[date] = field(default_factory=Counter)
    # weekday (0 = Monday) x hour -> plugged point-seconds, and the hours of that cell
    plugged_by_slot: defaultdict[tuple[int, int], float] = field(
        default_factory=lambda: defaultdict(float)
    )
    slot_hours: defaultdict[tuple[int, int], float] = field(
        default_factory=lambda: defaultdict(float)
    )

    def add(self, other: ScopeFigures) -> None:
        self.points += other.points
        self.sessions += other.sessions
        for group, keys in other.drivers.items():
            self.drivers.setdefault(group, set()).update(keys)
        self.energy_wh += other.energy_wh
        self.plugged_s += other.plugged_s
        self.charging_s += other.charging_s
        self.availability = self.availability + other.availability
        self.tickets_opened.update(other.tickets_opened)
        self.tickets_closed += other.tickets_closed
        self.repair_s += other.repair_s
        self.tickets_open_at_end += other.tickets_open_at_end
        self.bookings += other.bookings
        self.booking_fee_rules.update(other.booking_fee_rules)
        self.trips += other.trips
        self.trip_km += other.trip_km
        _add_amounts(self.carsharing_fees, other.carsharing_fees)
        _add_amounts(self.charging_by_plan, other.charging_by_plan)
        _add_amounts(self.reservation_fees, other.reservation_fees)
        _add_amounts(self.v2g_credits, other.v2g_credits)
        _add_amounts(self.plan_fees_by_plan, other.plan_fees_by_plan)
        _add_amounts(self.partner_charging_by_plan, other.partner_charging_by_plan)
        self.currencies |= other.currencies
        self.daily_energy_wh.update(other.daily_energy_wh)
        for slot, seconds in other.plugged_by_slot.items():
            self.plugged_by_slot[slot] += seconds
        self.hours_in_month = max(self.hours_in_month, other.hours_in_month)
        for slot, hours in other.slot_hours.items():
            self.slot_hours[slot] = max(self.slot_hours[slot], hours)

    @property
    def energy_kwh(self) -> float:
        return self.energy_wh / 1000

    @property
    def unique_drivers(self) -> int:
        return len(set().union(*self.drivers.values())) if self.drivers else 0

    @property
    def occupancy_pct(self) -> float | None:
        base = self.points * self.hours_in_month * 3600
        return 100 * self.plugged_s / base if base else None

    @property
    def availability_pct(self) -> float | None:
        return self.availability.availability_pct

    @property
    def uptime_pct(self) -> float | None:
        planned = self.availability.downtime_s.get(PLANNED_CAUSE, 0.0)
        base = self.availability.known_s - planned
        return 100 * self.availability.available_s / base if base > 0 else None

    @property
    def charging_revenue(self) -> dict[str, Decimal]:
        """Charging revenue excl. VAT per currency, every plan together."""
        return _per_currency(self.charging_by_plan)

    def charging_of(self, plan: str) -> dict[str, Decimal]:
        """The charging revenue excl. VAT of one plan, per currency."""
        return _of_plan(self.charging_by_plan, plan)

    def plan_fees_of(self, plan: str) -> dict[str, Decimal]:
        return _of_plan(self.plan_fees_by_plan, plan)

    def partner_charging_of(self, plan: str) -> dict[str, Decimal]:
        return _of_plan(self.partner_charging_by_plan, plan)

    @property
    def revenue_by_plan(self) -> dict[tuple[str, str], Decimal]:
        """Per (plan, currency): charging here, plan fees and charging on partner networks."""
        out: dict[tuple[str, str], Decimal] = {}
        for part in (self.charging_by_plan, self.plan_fees_by_plan, self.partner_charging_by_plan):
            _add_amounts(out, part)
        return dict(sorted(out.items()))

    @property
    def revenue_excl_vat(self) -> dict[str, Decimal]:
        """Every kind of revenue excl. VAT per currency, credits deducted (0 in the sites'
        currencies when nothing was earned), in currency order."""
        out = {currency: Decimal(0) for currency in self.currencies}
        parts = (
            _per_currency(self.revenue_by_plan), self.reservation_fees, self.carsharing_fees,
            self.v2g_credits,
        )  # fmt: skip
        for part in parts:
            _add_amounts(out, part)
        return dict(sorted(out.items()))

    @property
    def mean_repair_h(self) -> float | None:
        return self.repair_s / self.tickets_closed / 3600 if self.tickets_closed else None

    def occupancy_heat(self) -> list[list[float]]:
        """Mean share of points plugged, [weekday][hour], in percent."""
        grid = [[0.0] * 24 for _ in range(7)]
        for (day, hour), hours in self.slot_hours.items():
            base = self.points * hours * 3600
            if base:
                grid[day][hour] = 100 * self.plugged_by_slot[(day, hour)] / base
        return grid


def _per_currency(by_plan: dict[tuple[str, str], Decimal]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for (_, currency), amount in by_plan.items():
        _add_amounts(out, {currency: amount})
    return out


def _of_plan(by_plan: dict[tuple[str, str], Decimal], plan: str) -> dict[str, Decimal]:
    return {c: a for (p, c), a in by_plan.items() if p == plan}


def _add_amounts(into: dict[K, Decimal], other: dict[K, Decimal]) -> None:
    for key, amount in other.items():
        into[key] = into.get(key, Decimal(0)) + amount
