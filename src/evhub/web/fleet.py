"""The fleet console: the shared cars of a hub (or of all hubs) with their states and each
electric car's charge against its next booking, the bookings and maintenance blocks of the
days to come, the latest trips with what they cost, and the damages reported; an operator
charges a returned trip's cleaning fee or damage franchise there."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal, InvalidOperation

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from evhub.assets import service as assets
from evhub.carsharing import return_fees, views
from evhub.carsharing.policy import CarsharingPolicy
from evhub.carsharing.return_fees import FeeRequest
from evhub.deps import ClockDep, SessionDep, UowDep
from evhub.errors import DomainError, InvalidInput
from evhub.web.console import PageOperator, PageViewer, read_form, render
from evhub.web.fleet_map import map_context

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
        damages=await views.damage_reports(session, scope), now=now, policy=policy,
        **map_context(request.app.state.settings, sites.values(), scope),
    )  # fmt: skip


@router.post("/fleet/fees", response_class=HTMLResponse)
async def charge_fee(
    request: Request, principal: PageOperator, uow: UowDep, clock: ClockDep
) -> Response:
    """Charge a returned trip's cleaning fee or damage franchise; the answer in place."""
    policy: CarsharingPolicy = request.app.state.carsharing_policy
    form = await read_form(request)
    try:
        fee_request = _fee_request(form)
        async with uow() as session:
            fee = await return_fees.charge_fee(session, fee_request, clock.now(), policy)
        message, ok = f"Charged {fee.amount} {fee.currency} on booking #{fee.booking_id}.", True
    except DomainError as exc:
        message, ok = exc.message, False
    if not request.headers.get("HX-Request"):
        return RedirectResponse("/fleet", status_code=status.HTTP_303_SEE_OTHER)
    return render(request, "_result.html", principal, message=message, ok=ok)


def _fee_request(form: dict[str, str]) -> FeeRequest:
    booking, report = form.get("booking_id", ""), form.get("report_id", "")
    if not all(n.isdigit() and len(n) <= 9 for n in (booking, report or "0")):
        raise InvalidInput("choose a trip (and a damage report) of the lists")
    text = form.get("amount", "").strip()
    try:
        amount = Decimal(text) if text else None
    except InvalidOperation as exc:
        raise InvalidInput("the amount is a number, such as 12.50") from exc
    if amount is not None and not amount.is_finite():
        raise InvalidInput("the amount is a number, such as 12.50")
    reason = form.get("reason", "").strip()
    if not 3 <= len(reason) <= 160:
        raise InvalidInput("a reason of 3 to 160 characters")
    return FeeRequest(int(booking), form.get("kind", ""), reason, amount,
                      int(report) if report else None)  # fmt: skip
