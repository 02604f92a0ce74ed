"""The monthly report as CSV: one row for the network, one per town, one per site.

Columns (units in the names; empty when a figure has no base, e.g. no known time):
scope (network|town|site), town, site_id, site_name, month, points, sessions, unique_drivers,
drivers_by_group ("group:n;..."), energy_kwh, hours_plugged, hours_charging, occupancy_pct,
availability_pct, uptime_pct (AFIR: planned maintenance apart), downtime_faulted_h,
downtime_offline_h, downtime_planned_h, tickets_opened, tickets_by_cause ("cause:n;..."),
tickets_closed, mean_repair_h, tickets_open_at_end, revenue_excl_vat and revenue_currency
(charging, reservation fees and car-sharing together; in several currencies, one amount per
currency in both columns, ";"-separated in the same order), bookings, booking_fees_by_rule
("rule:n;..."), carsharing_trips, carsharing_km, carsharing_fees ("CUR:amount;..."),
co2_avoided_kg, and then:
charging_revenue_by_plan ("plan:CUR:amount;...", excl. VAT, credits deducted; "roaming": CDRs
with no driver of ours, "no plan": drivers without one), reservation_fees_excl_vat
("CUR:amount;..."), and then:
plan_fees_by_plan and partner_charging_by_plan ("plan:CUR:amount;...": the month's plan fees,
and what our drivers are billed for charging on partner networks; of no site or town, so on the
network row of a whole-network report only), v2g_credits_excl_vat ("CUR:amount;...",
negative), revenue_by_plan ("plan:CUR:amount;...": charging, plan fees and partner charging of
each plan). revenue_excl_vat is the sum of every kind, each line once, per currency.
Amounts are exact, excl. VAT, with 4 decimals (the precision of a CDR's totals).
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from evhub.reporting import co2
from evhub.reporting.figures import PLANNED_CAUSE, ScopeFigures
from evhub.reporting.monthly import MonthlyReport

COLUMNS = (
    "scope town site_id site_name month points sessions unique_drivers drivers_by_group "
    "energy_kwh hours_plugged hours_charging occupancy_pct availability_pct uptime_pct "
    "downtime_faulted_h downtime_offline_h downtime_planned_h tickets_opened tickets_by_cause "
    "tickets_closed mean_repair_h tickets_open_at_end revenue_excl_vat revenue_currency bookings "
    "booking_fees_by_rule carsharing_trips carsharing_km carsharing_fees co2_avoided_kg "
    "charging_revenue_by_plan reservation_fees_excl_vat plan_fees_by_plan partner_charging_by_plan "
    "v2g_credits_excl_vat revenue_by_plan"
).split()
MONEY_PLACES = Decimal("0.0001")


def monthly_csv(report: MonthlyReport) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for f in [report.network, *report.towns, *report.sites]:
        writer.writerow(row(report, f))
    return out.getvalue()


def row(report: MonthlyReport, f: ScopeFigures) -> dict[str, str]:
    down = f.availability.downtime_s
    revenue = f.revenue_excl_vat
    return {
        "scope": f.kind,
        "town": f.town,
        "site_id": "" if f.site_id is None else str(f.site_id),
        "site_name": f.site_name if f.kind == "site" else "",
        "month": report.month.label,
        "points": str(f.points),
        "sessions": str(f.sessions),
        "unique_drivers": str(f.unique_drivers),
        "drivers_by_group": _pairs({g: len(k) for g, k in f.drivers.items()}),
        "energy_kwh": f"{f.energy_kwh:.3f}",
        "hours_plugged": f"{f.plugged_s / 3600:.2f}",
        "hours_charging": f"{f.charging_s / 3600:.2f}",
        "occupancy_pct": _pct(f.occupancy_pct),
        "availability_pct": _pct(f.availability_pct),
        "uptime_pct": _pct(f.uptime_pct),
        "downtime_faulted_h": f"{down.get('faulted', 0.0) / 3600:.2f}",
        "downtime_offline_h": f"{down.get('offline', 0.0) / 3600:.2f}",
        "downtime_planned_h": f"{down.get(PLANNED_CAUSE, 0.0) / 3600:.2f}",
        "tickets_opened": str(sum(f.tickets_opened.values())),
        "tickets_by_cause": _pairs(dict(f.tickets_opened)),
        "tickets_closed": str(f.tickets_closed),
        "mean_repair_h": "" if f.mean_repair_h is None else f"{f.mean_repair_h:.2f}",
        "tickets_open_at_end": str(f.tickets_open_at_end),
        "revenue_excl_vat": ";".join(money(a) for a in revenue.values()),
        "revenue_currency": ";".join(revenue),
        "bookings": str(f.bookings),
        "booking_fees_by_rule": _pairs(dict(f.booking_fee_rules)),
        "carsharing_trips": str(f.trips),
        "carsharing_km": f"{f.trip_km:.1f}",
        "carsharing_fees": _amounts(f.carsharing_fees),
        "co2_avoided_kg": f"{co2.avoided_kg(f.energy_kwh):.1f}",
        "charging_revenue_by_plan": _by_plan(f.charging_by_plan),
        "reservation_fees_excl_vat": _amounts(f.reservation_fees),
        "plan_fees_by_plan": _by_plan(f.plan_fees_by_plan),
        "partner_charging_by_plan": _by_plan(f.partner_charging_by_plan),
        "v2g_credits_excl_vat": _amounts(f.v2g_credits),
        "revenue_by_plan": _by_plan(f.revenue_by_plan),
    }


def _by_plan(amounts: dict[tuple[str, str], Decimal]) -> str:
    return ";".join(f"{p}:{c}:{money(a)}" for (p, c), a in sorted(amounts.items()))


def money(amount: Decimal) -> str:
    """An amount exactly, at the 4 decimals of a CDR's totals (fees have 2)."""
    return str(amount.quantize(MONEY_PLACES))


def _amounts(by_currency: dict[str, Decimal]) -> str:
    return ";".join(f"{c}:{money(a)}" for c, a in sorted(by_currency.items()))


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _pairs(counts: dict[str, int]) -> str:
    return ";".join(f"{k}:{v}" for k, v in sorted(counts.items()))
