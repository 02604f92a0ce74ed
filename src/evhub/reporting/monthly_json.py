"""The monthly report as JSON: the CSV's figures per scope, revenue as amounts with currency.

Amounts are decimal strings, exact (4 decimals, a CDR's precision), never floats.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel

from evhub.reporting import co2
from evhub.reporting.figures import METHODS, ScopeFigures
from evhub.reporting.monthly import MonthlyReport
from evhub.reporting.monthly_csv import money, row


class Amount(BaseModel):
    currency: str
    amount_excl_vat: str


class PlanAmount(Amount):
    plan: str


class Revenue(BaseModel):
    """Excl. VAT: charging by the driver's plan (credits deducted; "roaming": no driver of
    ours), reservation fees at invoiced prices, car-sharing fees, V2G credits (negative), plan
    fees and our drivers' charging on partner networks (of no site: in a whole network's
    scope only), by plan all that is a plan's, and the total of every kind."""

    total: list[Amount]
    charging_by_plan: list[PlanAmount]
    reservation_fees: list[Amount]
    carsharing: list[Amount]
    v2g_credits: list[Amount]
    plan_fees: list[PlanAmount]
    partner_charging_by_plan: list[PlanAmount]
    by_plan: list[PlanAmount]


class ScopeOut(BaseModel):
    scope: str
    town: str
    site_id: int | None
    site_name: str
    figures: dict[str, str]  # the CSV's columns of the scope, as the CSV writes them
    drivers_by_group: dict[str, int]
    revenue: Revenue


class MonthlyReportOut(BaseModel):
    month: str
    timezone: str
    start: datetime
    until: datetime  # the month's end, or the report's time for a month under way
    methods: list[str]  # how each figure is made, the CO2 factors and their sources last
    scopes: list[ScopeOut]


def monthly_json(report: MonthlyReport) -> MonthlyReportOut:
    return MonthlyReportOut(
        month=report.month.label,
        timezone=report.month.timezone,
        start=report.month.start,
        until=report.until,
        methods=[*METHODS, co2.METHOD],
        scopes=[_scope(report, f) for f in [report.network, *report.towns, *report.sites]],
    )


def _scope(report: MonthlyReport, f: ScopeFigures) -> ScopeOut:
    return ScopeOut(
        scope=f.kind,
        town=f.town,
        site_id=f.site_id,
        site_name=f.site_name if f.kind == "site" else "",
        figures=row(report, f),
        drivers_by_group={g: len(keys) for g, keys in sorted(f.drivers.items())},
        revenue=Revenue(
            total=_amounts(f.revenue_excl_vat),
            charging_by_plan=_plan_amounts(f.charging_by_plan),
            reservation_fees=_amounts(f.reservation_fees),
            carsharing=_amounts(f.carsharing_fees),
            v2g_credits=_amounts(f.v2g_credits),
            plan_fees=_plan_amounts(f.plan_fees_by_plan),
            partner_charging_by_plan=_plan_amounts(f.partner_charging_by_plan),
            by_plan=_plan_amounts(f.revenue_by_plan),
        ),
    )


def _plan_amounts(by_plan: dict[tuple[str, str], Decimal]) -> list[PlanAmount]:
    return [
        PlanAmount(plan=plan, currency=currency, amount_excl_vat=money(amount))
        for (plan, currency), amount in sorted(by_plan.items())
    ]


def _amounts(by_currency: dict[str, Decimal]) -> list[Amount]:
    return [Amount(currency=c, amount_excl_vat=money(a)) for c, a in sorted(by_currency.items())]
