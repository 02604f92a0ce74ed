"""What a trip costs: its time (each day's time capped) and distance at the car-sharing prices,
the late return fee (a one-off amount plus a rate per minute late, capped), and the fees the
operator charges after a return: cleaning (a fixed price) and a damage franchise (the amount
stated, capped).

Pure functions over Decimal amounts with their currency; the booking stores the result as fee
lines at the return, which invoicing takes later (`evhub.carsharing.invoice_lines`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from evhub.errors import InvalidInput

CENT = Decimal("0.01")
USAGE_KINDS = ("time", "distance")  # what every trip costs, beside its fees
OPERATOR_KINDS = ("cleaning", "damage_franchise")  # charged by the operator after a return
DESCRIPTION_MAX = 200  # CarBookingFee.description
MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class LateFeeRule:
    grace: timedelta  # a return within this after the booking's end costs nothing
    base: Decimal  # once late, this one-off amount...
    per_minute: Decimal  # ...plus this for each minute begun after the booking's end
    cap: Decimal  # never more than this in all
    currency: str


@dataclass(frozen=True)
class FeeLine:
    kind: str
    description: str
    quantity: int
    amount: Decimal
    currency: str


def minutes_late(ends_at: datetime, returned_at: datetime) -> int:
    """Minutes begun after the booking's end (0 when on time)."""
    seconds = (returned_at - ends_at).total_seconds()
    return max(0, math.ceil(seconds / 60))


def late_return_fee(rule: LateFeeRule, ends_at: datetime, returned_at: datetime) -> FeeLine | None:
    """The fee line for a car returned at `returned_at`, or None within the grace period.
    Past the grace, every minute after the end counts (the grace is a tolerance, not a
    free allowance)."""
    if returned_at <= ends_at + rule.grace:
        return None
    late = minutes_late(ends_at, returned_at)
    amount = min(rule.base + rule.per_minute * late, rule.cap).quantize(CENT, ROUND_HALF_UP)
    capped = " (capped)" if amount == rule.cap.quantize(CENT, ROUND_HALF_UP) else ""
    return FeeLine("late_return", f"late return, {late} min{capped}", late, amount, rule.currency)


def usage_lines(
    per_hour: Decimal,
    per_km: Decimal,
    currency: str,
    started_at: datetime,
    ended_at: datetime,
    distance_km: float,
    daily_cap: Decimal | None = None,
) -> list[FeeLine]:
    """The trip's time (each minute begun; each 24 hours from the start cost at most
    `daily_cap`) and distance (each kilometre begun)."""
    minutes = minutes_late(started_at, ended_at)
    km = max(0, math.ceil(round(distance_km, 3)))
    exact = time_price(per_hour, minutes, daily_cap)
    capped = " (daily cap)" if exact < per_hour * minutes / 60 else ""
    time_amount = exact.quantize(CENT, ROUND_HALF_UP)
    km_amount = (per_km * km).quantize(CENT, ROUND_HALF_UP)
    return [
        FeeLine("time", f"car-sharing, {minutes} min{capped}", minutes, time_amount, currency),
        FeeLine("distance", f"car-sharing, {km} km", km, km_amount, currency),
    ]


def time_price(per_hour: Decimal, minutes: int, daily_cap: Decimal | None) -> Decimal:
    """The exact price of `minutes` at `per_hour`, each whole day and the day begun after
    them capped at `daily_cap` (no cap when None)."""
    if daily_cap is None:
        return per_hour * minutes / 60
    days, rest = divmod(minutes, MINUTES_PER_DAY)
    full_day = min(per_hour * 24, daily_cap)
    return days * full_day + min(per_hour * rest / 60, daily_cap)


def cleaning_fee(price: Decimal, currency: str, reason: str, amount: Decimal | None) -> FeeLine:
    """The cleaning fee is the fixed price of the car-sharing prices: an amount the operator
    states must be that price (no other is charged), and a price of 0 charges none."""
    fixed = price.quantize(CENT, ROUND_HALF_UP)
    if fixed <= 0:
        raise InvalidInput("the car-sharing prices set no cleaning fee")
    if amount is not None and amount != fixed:
        raise InvalidInput(
            f"the cleaning fee is the fixed price of {fixed} {currency}", price=str(fixed)
        )
    return FeeLine("cleaning", _described("cleaning", reason), 1, fixed, currency)


def damage_franchise(
    amount: Decimal | None, cap: Decimal, currency: str, reason: str, report_id: int
) -> FeeLine:
    """The franchise the operator states for a damage, in cents, never above the cap."""
    if amount is None:
        raise InvalidInput("a damage franchise states its amount")
    if amount <= 0 or amount != amount.quantize(CENT):
        raise InvalidInput("the amount is positive, in cents")
    if amount > cap:
        raise InvalidInput(
            f"a damage franchise is at most {cap.quantize(CENT)} {currency}", cap=str(cap)
        )
    what = _described(f"damage franchise (report {report_id})", reason)
    return FeeLine("damage_franchise", what, 1, amount, currency)


def _described(what: str, reason: str) -> str:
    text = " ".join(reason.split())
    if not text:
        raise InvalidInput("a fee states its reason")
    return f"{what}: {text}"[:DESCRIPTION_MAX]
