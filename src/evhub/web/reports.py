"""The reports page: the month's figures per town and site, daily energy, and downloads."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from evhub.deps import ClockDep, SessionDep
from evhub.errors import DomainError
from evhub.reporting import co2
from evhub.reporting.figures import METHODS, ScopeFigures
from evhub.reporting.money import money_text
from evhub.reporting.monthly import Month, MonthlyReport, monthly_report
from evhub.reporting.monthly_csv import row
from evhub.reporting.revenue import RevenueSources
from evhub.reporting.scope import report_scope
from evhub.web.console import PageReportReader, render

router = APIRouter(include_in_schema=False)


@router.get("/reports", response_class=HTMLResponse)
async def reports_page(
    request: Request,
    principal: PageReportReader,
    session: SessionDep,
    clock: ClockDep,
    month: str | None = None,
    town: str | None = None,
) -> HTMLResponse:
    timezone = request.app.state.settings.report_timezone
    now = clock.now()
    label = month or now.astimezone(ZoneInfo(timezone)).strftime("%Y-%m")
    report: MonthlyReport | None = None
    error = ""
    try:
        scope = report_scope(principal.towns, town or None)
        month_ = Month.parse(label, timezone)
        sources = RevenueSources.of(request.app.state.settings)
        report = await monthly_report(session, month_, now, sources, scope.town, None, scope.towns)
    except DomainError as exc:
        error = exc.message
    query = {"month": label, **({"town": town} if town else {})}
    rows, revenue = [], []
    if report is not None:
        scopes = [report.network, *report.towns, *report.sites]
        rows = [row(report, f) for f in scopes]
        revenue = [_revenue(f) for f in scopes]
    return render(
        request, "reports.html", principal, month=label, town=town or "", error=error,
        report=report, rows=rows, revenue=revenue, daily=_daily(report), methods=METHODS,
        co2_method=co2.METHOD,
        csv_url="/api/v1/reports/monthly?" + urlencode({**query, "format": "csv"}),
        pdf_url="/api/v1/reports/monthly?" + urlencode({**query, "format": "pdf"}),
        json_url="/api/v1/reports/monthly?" + urlencode({**query, "format": "json"}),
    )  # fmt: skip


def _revenue(f: ScopeFigures) -> dict[str, object]:
    """One scope's revenue excl. VAT as the page shows it: to the cent, currency with each."""
    plans = sorted({plan for plan, _ in f.charging_by_plan})
    return {
        "scope": f.kind, "town": f.town, "site_id": f.site_id,
        "site_name": f.site_name if f.kind == "site" else "",
        "by_plan": [
            (plan, money_text(f.charging_of(plan))) for plan in plans
        ],
        "reservation_fees": money_text(f.reservation_fees),
        "carsharing": money_text(f.carsharing_fees), "trips": f.trips,
        "v2g_credits": money_text(f.v2g_credits),
        "plan_fees": [
            (p, money_text(f.plan_fees_of(p))) for p in sorted({p for p, _ in f.plan_fees_by_plan})
        ],
        "partner": [
            (p, money_text(f.partner_charging_of(p)))
            for p in sorted({p for p, _ in f.partner_charging_by_plan})
        ],
        "total": money_text(f.revenue_excl_vat),
    }  # fmt: skip


def _daily(report: MonthlyReport | None) -> dict[str, list[float]]:
    """The network's energy per local day, for the page's chart (day start as epoch seconds).

    Adding a day to an aware time moves its wall clock: each step is a local midnight."""
    t: list[float] = []
    kwh: list[float] = []
    if report is not None:
        day = report.month.local_start
        while day < report.until:
            t.append(day.timestamp())
            kwh.append(report.network.daily_energy_wh.get(day.date(), 0) / 1000)
            day += timedelta(days=1)
    return {"t": t, "kwh": kwh}
