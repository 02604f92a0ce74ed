"""A site's page: its points live, its power over the day (measured, planned, grid limit),
and the sessions running now with what their drivers asked for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.assets import service as assets
from evhub.assets.models import Station
from evhub.charging import service as charging
from evhub.charging.load import measured_load_kw
from evhub.charging.models import Transaction
from evhub.deps import ClockDep, SessionDep
from evhub.planning.live import SitePlan
from evhub.planning.models import ChargingNeed
from evhub.reservations.windows import local_day
from evhub.web.console import PageViewer, render

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Point:
    """One connector as the grid shows it: a running session's charging state wins."""

    station: Station
    evse_id: int
    connector_id: int
    max_power_kw: float
    current_type: str
    state: str


@dataclass(frozen=True)
class RunningSession:
    tx: Transaction
    need_kwh: float | None
    departure_at: datetime | None
    need_source: str | None
    limit_kw: float | None


async def site_points(session: AsyncSession, site_id: int) -> list[Point]:
    stations = await assets.list_stations(session, site_id)
    active = {
        (tx.station_id, tx.evse_id): tx
        for tx in await charging.list_transactions(session, state="active", limit=5000)
    }
    points = []
    for st in stations:
        for evse in st.evses:
            tx = active.get((st.id, evse.evse_id))
            for c in evse.connectors:
                state = c.status if st.online else "Offline"
                if st.online and tx is not None and tx.charging_state:
                    state = tx.charging_state
                points.append(Point(st, evse.evse_id, c.connector_id, evse.max_power_kw,
                                    evse.current_type, state))  # fmt: skip
    return points


async def running_sessions(
    session: AsyncSession, site_id: int, plan: SitePlan | None
) -> list[RunningSession]:
    station_ids = {st.id for st in await assets.list_stations(session, site_id)}
    active = [
        tx
        for tx in await charging.list_transactions(session, state="active", limit=5000)
        if tx.station_id in station_ids
    ]
    rows = await session.execute(
        select(ChargingNeed).where(ChargingNeed.transaction_pk.in_([tx.id for tx in active]))
    )
    needs = {n.transaction_pk: n for n in rows.scalars()}
    limits = {a.running.tx_pk: a.limit_kw for a in plan.allocations} if plan else {}
    out = []
    for tx in active:
        need = needs.get(tx.id)
        out.append(RunningSession(
            tx, need.energy_kwh if need else None, need.departure_at if need else None,
            need.source if need else None, limits.get(tx.id),
        ))  # fmt: skip
    return out


def _plan(request: Request, site_id: int) -> SitePlan | None:
    plan: SitePlan | None = request.app.state.planner.plans.get(site_id)
    return plan


@router.get("/sites/{site_id}", response_class=HTMLResponse)
async def site_page(
    site_id: int, request: Request, principal: PageViewer, session: SessionDep
) -> HTMLResponse:
    site = await assets.get_site(session, site_id)
    plan = _plan(request, site_id)
    return render(
        request, "site.html", principal, site=site, plan=plan,
        points=await site_points(session, site_id),
        sessions=await running_sessions(session, site_id, plan),
    )  # fmt: skip


@router.get("/sites/{site_id}/points", response_class=HTMLResponse)
async def site_points_fragment(
    site_id: int, request: Request, principal: PageViewer, session: SessionDep
) -> HTMLResponse:
    points = await site_points(session, site_id)
    return render(request, "_points.html", principal, points=points)


@router.get("/sites/{site_id}/sessions", response_class=HTMLResponse)
async def site_sessions_fragment(
    site_id: int, request: Request, principal: PageViewer, session: SessionDep
) -> HTMLResponse:
    site = await assets.get_site(session, site_id)
    sessions = await running_sessions(session, site_id, _plan(request, site_id))
    return render(request, "_sessions.html", principal, site=site, sessions=sessions)


@router.get("/sites/{site_id}/power")
async def site_power(
    site_id: int, request: Request, principal: PageViewer, session: SessionDep, clock: ClockDep
) -> dict[str, Any]:
    """The chart's data: per slot of the site's local day, measured and planned kW."""
    site = await assets.get_site(session, site_id)
    plan = _plan(request, site_id)
    now = clock.now()
    slot_min = plan.slot_minutes if plan else float(request.app.state.settings.plan_slot_minutes)
    start, end = local_day(ZoneInfo(site.timezone), now.astimezone(ZoneInfo(site.timezone)).date())
    slot = timedelta(minutes=slot_min)
    slots = int((end - start) / slot)
    station_ids = [st.id for st in await assets.list_stations(session, site_id)]
    measured = await measured_load_kw(session, station_ids, start, slot.total_seconds(), slots, now)
    return {
        "timezone": site.timezone,
        "now": now.timestamp(),
        "t": [(start + k * slot).timestamp() for k in range(slots)],
        "measured_kw": measured,
        "planned_kw": _planned(plan, start, slot, slots),
        "grid_limit_kw": plan.grid_limit_kw if plan else site.grid_limit_kw,
    }


def _planned(plan: SitePlan | None, start: datetime, slot: timedelta, slots: int) -> list[Any]:
    """The plan's total per slot, placed on the day's grid of slots (None outside it)."""
    out: list[float | None] = [None] * slots
    if plan is None:
        return out
    horizon = max((len(a.power_kw) for a in plan.allocations), default=0)
    for n in range(horizon):
        k = int((plan.start + n * slot - start) / slot)
        if 0 <= k < slots:
            total = sum(a.power_kw[n] for a in plan.allocations if n < len(a.power_kw))
            out[k] = round(total + sum(row[n] for _, row in plan.reserved if n < len(row)), 3)
    return out
