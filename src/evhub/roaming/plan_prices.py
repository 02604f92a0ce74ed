"""evhub as eMSP: what a plan's drivers pay for a charge on a partner's network.

The partner CPO bills evhub the CDR's `total_cost` (OCPI 2.2.1 §10.3.1); the driver pays that
cost excl. VAT raised by the plan's markup, plus the plan's fee per session, under evhub's own
VAT (the plan's rate: evhub sells the charge to its driver). A markup rather than a tariff of
evhub's own: CPOs price by energy, time, parking or flat fees in any mix, and re-pricing their
CDRs with another tariff could bill a driver less than what the charge cost evhub. A plan with
no roaming price, or a driver with no plan, passes the cost through.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts import plans
from evhub.accounts import service as accounts
from evhub.errors import InvalidInput
from evhub.events import emit
from evhub.roaming.models import PlanRoamingPrice

CENTS = Decimal("0.01")


@dataclass(frozen=True)
class RoamingPrice:
    markup_rate: Decimal  # a fraction of the CPO's cost: 0.15 is 15 %
    session_fee: Decimal
    currency: str  # of the session fee
    vat_rate: Decimal  # a percentage, as invoice lines carry it

    def amount_excl_vat(self, cost_excl_vat: Decimal, currency: str) -> Decimal:
        """The driver's price of a CDR costing `cost_excl_vat` in `currency`, to the cent.

        The fee is stated in the plan's currency: it is added to CDRs in that currency only
        (the invoice refuses a line in another currency than its own anyway)."""
        marked = (cost_excl_vat * (1 + self.markup_rate)).quantize(CENTS, ROUND_HALF_UP)
        return marked + (self.session_fee if currency == self.currency else Decimal(0))


def pass_through(vat_rate: Decimal, currency: str) -> RoamingPrice:
    return RoamingPrice(Decimal(0), Decimal(0), currency, vat_rate)


async def price_for(
    session: AsyncSession, driver_id: int, vat_rate: Decimal, currency: str
) -> RoamingPrice:
    """The roaming price of the driver's plan; `vat_rate` and `currency` (the invoices'
    defaults) serve a driver without a plan."""
    plan = await plans.plan_of(session, await accounts.get_driver(session, driver_id))
    if plan is None:
        return pass_through(vat_rate, currency)
    plan_vat = (plan.vat_rate * 100).quantize(CENTS)
    row = await session.get(PlanRoamingPrice, plan.id)
    if row is None:
        return pass_through(plan_vat, plan.currency)
    return RoamingPrice(row.markup_rate, row.session_fee, row.currency, plan_vat)


async def set_price(
    session: AsyncSession, plan_code: str, markup_rate: Decimal, session_fee: Decimal,
    now: datetime,
) -> PlanRoamingPrice:  # fmt: skip
    """Set the plan's roaming price (its fee in the plan's currency)."""
    if not Decimal(0) <= markup_rate < 10 or session_fee < 0:
        raise InvalidInput("a markup is a fraction in [0, 10), a fee is not negative")
    plan = await plans.plan_by_code(session, plan_code)
    row = await session.get(PlanRoamingPrice, plan.id)
    if row is None:
        row = PlanRoamingPrice(plan_id=plan.id)
        session.add(row)
    row.markup_rate, row.session_fee = markup_rate, session_fee.quantize(CENTS, ROUND_HALF_UP)
    row.currency, row.updated_at = plan.currency, now
    await session.flush()
    emit(session, "roaming.plan_price_set", now, plan=plan_code, markup_rate=str(markup_rate),
         session_fee=str(row.session_fee), currency=row.currency)  # fmt: skip
    return row
