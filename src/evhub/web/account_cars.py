"""Driver pages for shared cars (phone first): the driving licence on file, find a car at a
hub for a time, book it. The booking's own page (report, start, end) is `account_car_trips`.

Plain forms that work without JavaScript, each carrying the driver session's CSRF token;
times are entered and shown in the hub's time zone.
"""

from __future__ import annotations

import hmac
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts.driver_deps import SignedInDriver, signed_in_driver
from evhub.assets import service as assets
from evhub.assets.models import Site
from evhub.carsharing import bookings, fleet, members, views
from evhub.carsharing.bookings import CarRequest, CarSearch
from evhub.carsharing.policy import CarsharingPolicy
from evhub.carsharing.state import Propulsion
from evhub.errors import DomainError, InvalidInput, NotFound
from evhub.services import Services
from evhub.web.account_charging import NAV
from evhub.web.console import VENDOR_DIR, read_form, templates

router = APIRouter(prefix="/account/cars", include_in_schema=False)
LOCAL_INPUT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends
EXPIRED_FORM = "The form had expired: try again."


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def policy_of(request: Request) -> CarsharingPolicy:
    policy: CarsharingPolicy = request.app.state.carsharing_policy
    return policy


def see_other(target: str) -> RedirectResponse:
    return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)


def page(request: Request, name: str, code: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("error", "")
    context.setdefault("notice", "")
    ready = (VENDOR_DIR / "htmx.min.js").exists()
    response = templates.TemplateResponse(
        request, name, {"vendor_ready": ready, "nav": NAV, **context}
    )
    response.status_code = code
    return response


def genuine(form: dict[str, str], driver: SignedInDriver) -> bool:
    return hmac.compare_digest(form.get("csrf", "").encode(), driver.csrf.encode())


def parse_local(text: str, tz: ZoneInfo) -> datetime | None:
    """A datetime-local value in the hub's zone, as an aware time; None when left empty."""
    if not text:
        return None
    try:
        return datetime.strptime(text, LOCAL_INPUT).replace(tzinfo=tz)
    except ValueError as exc:
        raise InvalidInput("the time is not a date and time") from exc


def parse_hours(text: str) -> timedelta:
    try:
        hours = float(text or "2")
    except ValueError as exc:
        raise InvalidInput("the duration is a number of hours") from exc
    if not 0 < hours <= 24 * 31:
        raise InvalidInput("the duration is a number of hours")
    return timedelta(hours=hours)


async def hubs(request: Request) -> list[Site]:
    """The sites that have shared cars."""
    async with services_of(request).read_sessions() as session, session.begin():
        homes = {v.home_site_id for v in await fleet.list_vehicles(session)}
        return [s for s in await assets.list_sites(session) if s.id in homes]


@router.get("", response_class=HTMLResponse)
async def cars_page(
    request: Request,
    site_id: int | None = None,
    starts: str = "",
    hours: str = "2",
    propulsion: str = "",
) -> Response:
    driver = await signed_in_driver(request)
    if driver is None:
        return see_other("/account/login")
    query = {"site_id": site_id, "starts": starts, "hours": hours, "propulsion": propulsion}
    return await render_cars(request, driver, query)


async def render_cars(
    request: Request, driver: SignedInDriver, query: dict[str, Any], error: str = "",
    code: int = 200,
) -> Response:  # fmt: skip
    """The page: the licence, the driver's bookings, the search form and the cars found."""
    services, policy = services_of(request), policy_of(request)
    sites = await hubs(request)
    site = next((s for s in sites if s.id == query.get("site_id")), sites[0] if sites else None)
    now = services.clock.now()
    found: list[Any] = []
    starts_at: datetime | None = None
    async with services.read_sessions() as session, session.begin():
        try:
            member = await members.get_member(session, driver.driver_id)
        except NotFound:
            member = None
        mine = await views.bookings_of_driver(session, driver.driver_id)
        refusal = await members.plan_refusal(session, driver.driver_id)
        if refusal is None and site is not None and query.get("site_id") is not None:
            try:
                starts_at, found = await _search(session, site, query, now)
            except DomainError as exc:
                error, code = error or exc.message, exc.status_code if code == 200 else code
    tz = ZoneInfo(site.timezone) if site else ZoneInfo("UTC")
    return page(
        request, "account_cars.html", code, csrf=driver.csrf, error=error, member=member,
        mine=mine, sites=sites, site=site, query=query, found=found, policy=policy,
        plan_refusal=refusal,
        starts_utc=starts_at.isoformat() if starts_at else "",
        default_starts=now.astimezone(tz).strftime(LOCAL_INPUT), today=now.date(),
    )  # fmt: skip


async def _search(
    session: AsyncSession, site: Site, query: dict[str, Any], now: datetime
) -> tuple[datetime | None, list[Any]]:
    tz = ZoneInfo(site.timezone)
    starts_at = parse_local(str(query.get("starts") or ""), tz)
    begin = max(starts_at or now, now)
    ends_at = begin + parse_hours(str(query.get("hours") or ""))
    propulsion = str(query.get("propulsion") or "")
    kind = Propulsion(propulsion) if propulsion in set(Propulsion) else None
    cars = await bookings.search(session, CarSearch(site.id, begin, ends_at, kind), now)
    return starts_at, cars


@router.post("/licence")
async def put_licence(request: Request) -> Response:
    """The driver's licence on file: checked once, before the first trip."""
    driver = await signed_in_driver(request)
    if driver is None:
        return see_other("/account/login")
    form = await read_form(request)
    if not genuine(form, driver):
        return await render_cars(request, driver, {}, EXPIRED_FORM, 403)
    services = services_of(request)
    try:
        expires = date.fromisoformat(form.get("expires_on", ""))
    except ValueError:
        return await render_cars(request, driver, {}, "the expiry is a date", 422)
    try:
        async with services.uow() as session:
            await members.register(session, driver.driver_id, form.get("number", ""), expires,
                                   services.clock.now())  # fmt: skip
    except DomainError as exc:
        return await render_cars(request, driver, {}, exc.message, exc.status_code)
    return see_other("/account/cars")


@router.post("/book")
async def book(request: Request) -> Response:
    """Book the car chosen from the search, from its start (or now) for the hours asked."""
    driver = await signed_in_driver(request)
    if driver is None:
        return see_other("/account/login")
    form = await read_form(request)
    query: dict[str, Any] = {k: form.get(k, "") for k in ("starts", "hours", "propulsion")}
    query["site_id"] = int(form["site_id"]) if form.get("site_id", "").isdigit() else None
    if not genuine(form, driver):
        return await render_cars(request, driver, query, EXPIRED_FORM, 403)
    services = services_of(request)
    now = services.clock.now()
    try:
        request_ = _car_request(driver, form, now)
        async with services.uow() as session:
            booking = await bookings.book(session, request_, now, policy_of(request))
    except DomainError as exc:
        return await render_cars(request, driver, query, exc.message, exc.status_code)
    return see_other(f"/account/cars/bookings/{booking.id}")


def _car_request(driver: SignedInDriver, form: dict[str, str], now: datetime) -> CarRequest:
    vehicle = form.get("vehicle_id", "")
    if not vehicle.isdigit() or len(vehicle) > 9:
        raise InvalidInput("choose a car of the list")
    starts_at = datetime.fromisoformat(form["starts_at"]) if form.get("starts_at") else None
    if starts_at is not None and starts_at.tzinfo is None:
        raise InvalidInput("the start needs a time zone")
    ends_at = max(starts_at or now, now) + parse_hours(form.get("hours", ""))
    try:
        km = float(form["planned_km"]) if form.get("planned_km") else None
    except ValueError as exc:
        raise InvalidInput("the distance is a number of km") from exc
    if km is not None and not 0 < km <= 5000:
        raise InvalidInput("the distance is a number of km")
    starts = starts_at if starts_at is not None and starts_at > now else None
    return CarRequest(driver.driver_id, int(vehicle), ends_at, starts, km)
