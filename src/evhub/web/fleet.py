"""The fleet console: the shared cars of a hub (or of all hubs) with their states and each
electric car's charge against its next booking, the bookings and maintenance blocks of the
days to come, the latest trips with what they cost, and the damages reported."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from evhub.assets import service as assets
from evhub.carsharing import views
from evhub.carsharing.policy import CarsharingPolicy
from evhub.deps import ClockDep, SessionDep
from evhub.web.console import PageViewer, render

router = APIRouter(include_in_schema=False)
AHEAD = timedelta(days=7)  # the bookings shown: those holding a car from now to a week ahead


@router.get("/fleet", response_class=HTMLResponse)
async def fleet_page(
    request: Request,
    principal: PageViewer,
    session: SessionDep,
    clock: ClockDep,
    site_id: int | None = None,
) -> HTMLResponse:
    policy: CarsharingPolicy = request.app.state.carsharing_policy
    now = clock.now()
    sites = {s.id: s for s in await assets.list_sites(session)}
    chosen = sites.get(site_id) if site_id is not None else None
    scope = chosen.id if chosen is not None else None
    cars = await views.fleet_readiness(session, scope, now, policy)
    states: dict[str, int] = {}
    for car in cars:
        states[car.vehicle.state] = states.get(car.vehicle.state, 0) + 1
    return render(
        request, "fleet.html", principal, sites=list(sites.values()), site=chosen,
        site_by_id=sites, cars=cars, states=sorted(states.items()),
        bookings=await views.bookings_between(session, now, now + AHEAD, scope),
        trips=await views.latest_trips(session, scope),
        damages=await views.damage_reports(session, scope), now=now,
    )  # fmt: skip
