"""Revenue excluding VAT of a month, read from billing, each kind apart and each line once.

- Charging at the sites: every CDR billing issued for the charges started in the month, credits
  included with their negative totals (a corrected charge counts once, as corrected). Grouped
  by the driver's plan as accounts hold it; a CDR with no driver is a roaming charge (a
  partner's token, billed to its eMSP), a driver without a plan is "no plan". Per site.
- Reservation fees: the fee rules reservations record, priced by billing's `ReservationFees`,
  the same amounts an invoice bills. Per site.
- V2G credits: what the charges started in the month at the sites, that fed the grid, credit
  their drivers (negative). Per site.
- Plan fees: each driver's monthly fee of the month (`plan:{driver}:{YYYY-MM}`), by plan.
  Charging on partner networks: the CDRs partner CPOs sent for our drivers, ended in the month,
  at the plan's roaming price, by plan. Neither belongs to a site or a town: the report counts
  them in the network's figures only, and only when it covers the whole network.
An invoiced line counts at the amount its invoice billed; one not invoiced yet as the next
invoice will bill it (`evhub.billing.billed`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts import plans
from evhub.billing import cdrs, v2g_credit
from evhub.billing.billed import billed_lines
from evhub.billing.lines import ReservationFees
from evhub.billing.plan_fees import PlanFees
from evhub.reservations.state import FeeRule
from evhub.roaming.invoice_lines import RoamingCdrs
from evhub.settings import Settings

ROAMING = "roaming"
NO_PLAN = "no plan"

ByPlan = dict[tuple[str, str], Decimal]  # (plan, currency) -> total excl. VAT
ChargingByPlan = ByPlan
ByCurrency = dict[str, Decimal]
K = TypeVar("K")


@dataclass(frozen=True)
class RevenueSources:
    """Billing's line sources and prices, as the invoices of these settings use them."""

    reservation_fees: ReservationFees
    plan_fees: PlanFees
    roaming: RoamingCdrs
    v2g_per_kwh: Decimal
    v2g_currency: str

    @classmethod
    def of(cls, settings: Settings) -> RevenueSources:
        return cls(
            ReservationFees(settings), PlanFees(settings), RoamingCdrs(settings),
            settings.v2g_credit_per_kwh, settings.invoice_currency,
        )  # fmt: skip


async def charging_by_plan(
    session: AsyncSession, site_ids: Sequence[int], start: datetime, until: datetime
) -> dict[int, ChargingByPlan]:
    """Per site, the charging revenue excl. VAT of the charges started in [start, until)."""
    records = await cdrs.totals_of_charges_started(session, site_ids, start, until)
    codes = await plans.plan_codes(
        session, {r.driver_id for r in records if r.driver_id is not None}
    )
    out: dict[int, ChargingByPlan] = {}
    for record in records:
        plan = ROAMING if record.driver_id is None else codes.get(record.driver_id, NO_PLAN)
        _add(out.setdefault(record.site_id, {}), (plan, record.currency), record.total_excl_vat)
    return out


def reservation_fee(prices: ReservationFees, rule: str, idle_minutes: int) -> tuple[str, Decimal]:
    """The currency and amount excl. VAT of one recorded fee, as billing invoices it."""
    _, _, amount = prices.price(FeeRule(rule), idle_minutes)
    return prices.currency, amount


async def plan_fees_by_plan(
    session: AsyncSession, sources: RevenueSources, month_label: str, until: datetime
) -> ByPlan:
    """The month's plan fees by the driver's plan: as invoiced, and for the drivers not
    invoiced yet, as the month's invoice will bill them (a month begun is due in full)."""
    suffix = f":{month_label}"
    fees = {
        ref: (line.driver_id, line.currency, line.amount_excl_vat)
        for ref, line in (await billed_lines(session, PlanFees.name, ref_suffix=suffix)).items()
    }
    for draft in await sources.plan_fees.lines(session, until, None):
        if draft.source_ref.endswith(suffix) and draft.source_ref not in fees:
            # (when the invoices' month is the report's: both time zones alike)
            fees[draft.source_ref] = (draft.driver_id, draft.currency, draft.amount_excl_vat)
    return await _by_plan(session, fees.values())


async def partner_charging_by_plan(
    session: AsyncSession, sources: RevenueSources, start: datetime, until: datetime
) -> ByPlan:
    """What our drivers are billed for the charges they made on partner networks, ended in
    [start, until), by their plan (credits negative)."""
    lines = await sources.roaming.lines_ended(session, start, until)
    return await _by_plan(session, [(d.driver_id, d.currency, d.amount_excl_vat) for d in lines])


async def v2g_credits(
    session: AsyncSession,
    sources: RevenueSources,
    site_ids: Collection[int],
    start: datetime,
    until: datetime,
    now: datetime,
) -> dict[int, ByCurrency]:
    """Per site, the credits (negative) of the charges started in [start, until) whose car
    fed the grid: as invoiced, else at today's rate. A charge of no driver of ours earns
    no credit (the invoices credit drivers only)."""
    fed = [
        f
        for f in await v2g_credit.fed_back(session, now, since=start)
        if f.driver_id is not None and f.site_id in site_ids and start <= f.started_at < until
    ]
    refs = [f"tx:{f.transaction_pk}" for f in fed]  # as `V2gCredits` names its lines
    billed = await billed_lines(session, v2g_credit.V2gCredits.name, refs=refs)
    out: dict[int, ByCurrency] = {}
    for f in fed:
        line = billed.get(f"tx:{f.transaction_pk}")
        if line is not None:
            currency, amount = line.currency, line.amount_excl_vat
        else:
            currency, amount = sources.v2g_currency, -v2g_credit.credit_of(f, sources.v2g_per_kwh)
        _add(out.setdefault(f.site_id, {}), currency, amount)
    return out


async def _by_plan(session: AsyncSession, amounts: Collection[tuple[int, str, Decimal]]) -> ByPlan:
    codes = await plans.plan_codes(session, {driver for driver, _, _ in amounts})
    out: ByPlan = {}
    for driver, currency, amount in amounts:
        _add(out, (codes.get(driver, NO_PLAN), currency), amount)
    return out


def _add(into: dict[K, Decimal], key: K, amount: Decimal) -> None:
    into[key] = into.get(key, Decimal(0)) + amount
