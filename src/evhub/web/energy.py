"""The console's energy pages: per site, the prices of the coming day, the plan of charge and
discharge (what each car is told now, and the site's charge and feed per hour), and what
vehicle-to-grid earned the site's drivers this month (the credits their invoices carry); and
whether the shared cars of the hub may feed the grid between bookings, which an operator sets
there as `PUT /api/v1/carsharing/hubs/{site_id}/v2g` does (the same service, the same rules)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.assets import service as assets
from evhub.auth.service import Principal
from evhub.billing.v2g_credit import FedBack, credit_of, fed_back
from evhub.carsharing import v2x
from evhub.carsharing.policy import CarsharingPolicy
from evhub.deps import ClockDep, SessionDep, UowDep
from evhub.errors import InvalidInput
from evhub.params import DbId
from evhub.planning.live import SitePlan
from evhub.prices import service as prices
from evhub.settings import Settings
from evhub.web.account_v2g import percent
from evhub.web.console import PageOperator, PageViewer, read_form, render

router = APIRouter(include_in_schema=False)
HOURS_AHEAD = 24


@dataclass(frozen=True)
class HourPrice:
    starts_at: datetime
    eur_per_kwh: Decimal


@dataclass(frozen=True)
class HourPlan:
    """The site's plan over one hour: the mean of what its cars draw and feed, kW."""

    starts_at: datetime
    charge_kw: float
    discharge_kw: float  # negative: fed to the grid


@dataclass(frozen=True)
class Earned:
    rows: tuple[tuple[FedBack, Decimal], ...]
    per_kwh: Decimal
    currency: str

    @property
    def energy_kwh(self) -> Decimal:
        return sum((f.energy_kwh for f, _ in self.rows), Decimal(0))

    @property
    def credit(self) -> Decimal:
        return sum((c for _, c in self.rows), Decimal(0))


def _plan(request: Request, site_id: int) -> SitePlan | None:
    plan: SitePlan | None = request.app.state.planner.plans.get(site_id)
    return plan


def hourly_plan(plan: SitePlan | None) -> list[HourPlan]:
    """The plan's slots gathered into hours from its start (a partial last hour is averaged
    over the slots it has)."""
    if plan is None or not plan.allocations:
        return []
    per_hour = max(1, round(60 / plan.slot_minutes))
    horizon = max(len(a.power_kw) for a in plan.allocations)
    out = []
    for first in range(0, horizon, per_hour):
        slots = range(first, min(horizon, first + per_hour))
        power = [[a.power_kw[n] for a in plan.allocations if n < len(a.power_kw)] for n in slots]
        charge = sum(sum(p for p in ps if p > 0) for ps in power) / len(slots)
        feed = sum(sum(p for p in ps if p < 0) for ps in power) / len(slots)
        at = plan.start + timedelta(minutes=first * plan.slot_minutes)
        out.append(HourPlan(at, round(charge, 2), round(feed, 2)))
    return out


async def hourly_prices(session: AsyncSession, site_id: int, now: datetime) -> list[HourPrice]:
    hour = now.replace(minute=0, second=0, microsecond=0)
    signal = await prices.price_signal(session, site_id, hour, HOURS_AHEAD, 60.0)
    return [
        HourPrice(hour + timedelta(hours=k), Decimal(str(p)).quantize(Decimal("0.0001")))
        for k, p in enumerate(signal)
    ]


async def earned_this_month(
    session: AsyncSession, settings: Settings, site_id: int, tz: ZoneInfo, now: datetime
) -> Earned:
    local = now.astimezone(tz)
    month_start = datetime.combine(date(local.year, local.month, 1), time(0), tz)
    rate = settings.v2g_credit_per_kwh
    rows = await fed_back(session, now, since=month_start, site_id=site_id)
    return Earned(tuple((f, credit_of(f, rate)) for f in rows), rate, settings.invoice_currency)


@router.get("/energy", response_class=HTMLResponse)
async def energy_sites(
    request: Request, principal: PageViewer, session: SessionDep, clock: ClockDep
) -> HTMLResponse:
    now, settings = clock.now(), request.app.state.settings
    rows = []
    for site in await assets.list_sites(session):
        tz = ZoneInfo(site.timezone)
        hours = await hourly_prices(session, site.id, now)
        earned = await earned_this_month(session, settings, site.id, tz, now)
        rows.append((site, hours[0] if hours else None, hourly_plan(_plan(request, site.id)),
                     earned))  # fmt: skip
    return render(request, "energy.html", principal, rows=rows)


@router.get("/energy/{site_id}", response_class=HTMLResponse)
async def energy_site(
    site_id: int, request: Request, principal: PageViewer, session: SessionDep, clock: ClockDep
) -> HTMLResponse:
    return await _site_page(request, principal, session, clock.now(), site_id)


async def _site_page(
    request: Request, principal: Principal, session: AsyncSession, now: datetime, site_id: int,
    code: int = status.HTTP_200_OK, **fleet_v2g_answer: object,
) -> HTMLResponse:  # fmt: skip
    """The site's energy page; after a refused V2G form without JS, with its reason."""
    site = await assets.get_site(session, site_id)
    settings = request.app.state.settings
    plan = _plan(request, site_id)
    response = render(
        request, "energy_site.html", principal, site=site, plan=plan,
        prices=await hourly_prices(session, site_id, now), hours=hourly_plan(plan),
        earned=await earned_this_month(session, settings, site_id, ZoneInfo(site.timezone), now),
        fleet_v2g=await v2x.hub_v2x(session, site_id, _policy(request)), **fleet_v2g_answer,
    )  # fmt: skip
    response.status_code = code
    return response


def _policy(request: Request) -> CarsharingPolicy:
    policy: CarsharingPolicy = request.app.state.carsharing_policy
    return policy


@router.post("/energy/{site_id}/fleet-v2g", response_class=HTMLResponse)
async def set_fleet_v2g(
    site_id: DbId, request: Request, principal: PageOperator, uow: UowDep, clock: ClockDep
) -> Response:
    """The operator's V2G choice for the hub's shared cars, through the service the API uses
    so that both refuse the same values. The section answers in place (a refused floor with a
    422 and its reason); without JS, the page again. A hub that does not exist is a 404."""
    form, now, policy = await read_form(request), clock.now(), _policy(request)
    try:
        floor = percent(form, "min_soc_pct", "floor")
        async with uow() as session:
            hub = await v2x.save_hub_v2x(
                session, site_id, form.get("consent") == "on", floor, now, policy
            )
    except InvalidInput as exc:
        answer: dict[str, object] = {"fleet_v2g_message": exc.message, "fleet_v2g_ok": False}
        async with uow() as session:
            if not request.headers.get("HX-Request"):
                return await _site_page(request, principal, session, now, site_id,
                                        exc.status_code, **answer)  # fmt: skip
            hub = await v2x.hub_v2x(session, site_id, policy)
        response = render(request, "_fleet_v2g.html", principal, fleet_v2g=hub, **answer)
        response.status_code = exc.status_code
        return response
    if not request.headers.get("HX-Request"):
        return RedirectResponse(f"/energy/{site_id}", status_code=status.HTTP_303_SEE_OTHER)
    return render(request, "_fleet_v2g.html", principal, fleet_v2g=hub,
                  fleet_v2g_message="Saved.", fleet_v2g_ok=True)  # fmt: skip
