"""The reservations calendar: a site's bookings per EVSE across one local day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from evhub.assets import service as assets
from evhub.deps import ClockDep, SessionDep
from evhub.reservations import views
from evhub.reservations.models import Booking
from evhub.reservations.windows import local_day
from evhub.web.console import PageViewer, render

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Bar:
    """A booking placed on the day's line: left and width in percent of the day."""

    booking: Booking
    left: float
    width: float


def bars(bookings: list[Booking], start: datetime, end: datetime) -> list[Bar]:
    length = (end - start).total_seconds()
    out = []
    for b in bookings:
        left = max(0.0, (b.starts_at - start).total_seconds() / length)
        right = min(1.0, (b.ends_at - start).total_seconds() / length)
        out.append(Bar(b, round(left * 100, 2), round(max(right - left, 0.005) * 100, 2)))
    return out


@router.get("/reservations", response_class=HTMLResponse)
async def reservations_page(
    request: Request,
    principal: PageViewer,
    session: SessionDep,
    clock: ClockDep,
    site_id: int | None = None,
    day: str | None = None,
) -> HTMLResponse:
    sites = await assets.list_sites(session)
    site = next((s for s in sites if s.id == site_id), sites[0] if sites else None)
    if site is None:
        return render(request, "reservations.html", principal, site=None, sites=sites)
    tz = ZoneInfo(site.timezone)
    try:
        chosen = date.fromisoformat(day) if day else clock.now().astimezone(tz).date()
    except ValueError:
        chosen = clock.now().astimezone(tz).date()
    start, end = local_day(tz, chosen)
    lines, unassigned = await views.site_calendar(session, site.id, start, end)
    rows = [(line.evse, bars(line.bookings, start, end)) for line in lines]
    return render(
        request, "reservations.html", principal, site=site, sites=sites, day=chosen,
        previous=chosen - timedelta(days=1), following=chosen + timedelta(days=1),
        rows=rows, unassigned=unassigned, hours=range(0, 24, 3),
    )  # fmt: skip
