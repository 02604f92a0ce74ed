"""Revenue excluding VAT of a month, read from billing: charging by plan, reservation fees.

Charging: every CDR billing issued for the charges started in the month at the sites, credits
included with their negative totals (a corrected charge counts once, as corrected). A CDR is
grouped by its driver's plan as accounts hold it; a CDR with no driver is a roaming charge
(a partner's token, billed to its eMSP), a driver without a plan is "no plan".
Reservation fees: the fee rules reservations record, priced by billing's `ReservationFees`,
the same amounts an invoice bills.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts import plans
from evhub.billing import cdrs
from evhub.billing.lines import ReservationFees
from evhub.reservations.state import FeeRule

ROAMING = "roaming"
NO_PLAN = "no plan"

ChargingByPlan = dict[tuple[str, str], Decimal]  # (plan, currency) -> total excl. VAT


async def charging_by_plan(
    session: AsyncSession, site_ids: Sequence[int], start: datetime, until: datetime
) -> dict[int, ChargingByPlan]:
    """Per site, the charging revenue excl. VAT of the charges started in [start, until)."""
    records = await cdrs.totals_of_charges_started(session, site_ids, start, until)
    drivers = {r.driver_id for r in records if r.driver_id is not None}
    codes = await plans.plan_codes(session, drivers)
    out: dict[int, ChargingByPlan] = {}
    for record in records:
        plan = ROAMING if record.driver_id is None else codes.get(record.driver_id, NO_PLAN)
        amounts = out.setdefault(record.site_id, {})
        key = (plan, record.currency)
        amounts[key] = amounts.get(key, Decimal(0)) + record.total_excl_vat
    return out


def reservation_fee(prices: ReservationFees, rule: str, idle_minutes: int) -> tuple[str, Decimal]:
    """The currency and amount excl. VAT of one recorded fee, as billing invoices it."""
    _, _, amount = prices.price(FeeRule(rule), idle_minutes)
    return prices.currency, amount
