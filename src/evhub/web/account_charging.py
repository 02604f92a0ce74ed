"""Driver pages for charging (phone first): hubs nearby with what is free and what it costs
the driver, a start on a chosen charge point, the live session, and the history.

A start or a stop asks the station through `remote.driver_charging` (read, close, then call);
the session page follows the charge by polling a fragment (htmx) until its CDR is issued.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts import passes
from evhub.accounts.driver_deps import SignedInDriver, signed_in_driver
from evhub.assets import nearby
from evhub.assets import service as assets
from evhub.billing import cdrs, estimates
from evhub.charging import driver_sessions
from evhub.charging.models import Transaction
from evhub.errors import DomainError, InvalidInput, NotFound
from evhub.planning import driver_needs
from evhub.remote import driver_charging
from evhub.services import Services
from evhub.web.console import VENDOR_DIR, read_form, templates

router = APIRouter(prefix="/account/charge", include_in_schema=False)
NAV = [
    ("/account", "Account"),
    ("/account/charge", "Charge"),
    ("/account/charge/history", "History"),
    ("/account/bills", "Charges & invoices"),
    ("/account/cars", "Shared cars"),
]
EXPIRED_FORM = "The form had expired: try again."
CENTS = Decimal("0.01")


def amount(value: Decimal | None, currency: str = "") -> str:
    """Money for people: to the cent, half up, with its currency."""
    if value is None:
        return "–"
    return f"{value.quantize(CENTS, ROUND_HALF_UP)} {currency}".strip()


templates.env.filters["amount"] = amount


def db_id(value: int) -> int:
    """A row id as the database can hold it; any other number names nothing."""
    if not 0 < value < 2**31:
        raise NotFound(f"no record {value}")
    return value


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def driver_page(
    request: Request, name: str, driver: SignedInDriver, code: int = 200, **context: Any
) -> HTMLResponse:
    context.setdefault("error", "")
    context.setdefault("notice", "")
    response = templates.TemplateResponse(
        request, name,
        {"vendor_ready": (VENDOR_DIR / "htmx.min.js").exists(), "csrf": driver.csrf,
         "driver": driver, "nav": NAV, **context},
    )  # fmt: skip
    response.status_code = code
    return response


def see_other(target: str) -> RedirectResponse:
    return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)


def not_found(request: Request, driver: SignedInDriver, message: str) -> HTMLResponse:
    return driver_page(request, "account_charge_missing.html", driver, 404, error=message)


async def token_uids(session: AsyncSession, driver_id: int) -> list[str]:
    return [t.uid for t in await passes.tokens_of(session, driver_id)]


def _position(lat: str, lon: str) -> tuple[float, float] | None:
    try:
        position = (float(lat), float(lon))
    except ValueError:
        return None
    if not (-90 <= position[0] <= 90 and -180 <= position[1] <= 180):
        return None
    return position


@router.get("", response_class=HTMLResponse)
async def hubs_page(request: Request, lat: str = "", lon: str = "") -> Response:
    driver = await signed_in_driver(request)
    if driver is None:
        return see_other("/account/login")
    services = services_of(request)
    now = services.clock.now()
    async with services.read_sessions() as session, session.begin():
        hubs = await nearby.hubs_nearby(session, _position(lat, lon))
        prices = {}
        for h in hubs:
            tariff = await estimates.driver_tariff(session, h.site.id, driver.driver_id, now)
            prices[h.site.id] = estimates.describe(tariff) if tariff else []
        active = await driver_sessions.sessions_of(
            session, await token_uids(session, driver.driver_id), active_only=True
        )
    return driver_page(request, "account_charge.html", driver, hubs=hubs, prices=prices,
                       active=active, lat=lat, lon=lon)  # fmt: skip


async def render_hub(
    request: Request, driver: SignedInDriver, site_id: int, error: str = "", code: int = 200
) -> Response:
    services = services_of(request)
    now = services.clock.now()
    async with services.read_sessions() as session, session.begin():
        try:
            hub = await nearby.site_hub(session, db_id(site_id))
        except DomainError as exc:
            return not_found(request, driver, exc.message)
        tariff = await estimates.driver_tariff(session, site_id, driver.driver_id, now)
    prices = estimates.describe(tariff) if tariff else []
    return driver_page(request, "account_charge_hub.html", driver, code, hub=hub,
                       prices=prices, error=error)  # fmt: skip


@router.get("/hubs/{site_id}", response_class=HTMLResponse)
async def hub_page(request: Request, site_id: int) -> Response:
    driver = await signed_in_driver(request)
    if driver is None:
        return see_other("/account/login")
    return await render_hub(request, driver, site_id)


@router.post("/start")
async def start(request: Request) -> Response:
    driver = await signed_in_driver(request)
    if driver is None:
        return see_other("/account/login")
    form = await read_form(request)
    site = form.get("site_id", "")
    site_id = int(site) if site.isdigit() and len(site) < 10 else 0
    if not hmac.compare_digest(form.get("csrf", "").encode(), driver.csrf.encode()):
        return await render_hub(request, driver, site_id, EXPIRED_FORM, 403)
    evse = form.get("evse_id", "")
    if not evse.isdigit() or len(evse) > 4:
        return await render_hub(request, driver, site_id, "Choose a charge point.", 422)
    services = services_of(request)
    try:
        await driver_charging.start_charge(
            services.read_sessions, services.control, driver.driver_id,
            form.get("station_id", ""), int(evse),
        )  # fmt: skip
    except DomainError as exc:
        return await render_hub(request, driver, site_id, exc.message, exc.status_code)
    return see_other("/account/charge/live")


@router.get("/live", response_class=HTMLResponse)
async def live_page(request: Request) -> Response:
    """Where a start lands: the driver's running session once the station reports it."""
    driver = await signed_in_driver(request)
    if driver is None:
        return see_other("/account/login")
    target = await _running(request, driver)
    if target is not None:
        return see_other(target)
    return driver_page(request, "account_charge_waiting.html", driver)


@router.get("/live/panel", response_class=HTMLResponse)
async def live_panel(request: Request) -> Response:
    driver = await signed_in_driver(request)
    if driver is None:
        return Response(status_code=401, headers={"HX-Redirect": "/account/login"})
    target = await _running(request, driver)
    if target is not None:  # htmx loads the session page in place of the waiting one
        return Response(status_code=200, headers={"HX-Redirect": target})
    return driver_page(request, "_account_charge_waiting.html", driver)


async def _running(request: Request, driver: SignedInDriver) -> str | None:
    async with services_of(request).read_sessions() as session, session.begin():
        uids = await token_uids(session, driver.driver_id)
        active = await driver_sessions.sessions_of(session, uids, active_only=True, limit=1)
    return f"/account/charge/sessions/{active[0].id}" if active else None


async def session_view(
    session: AsyncSession, driver: SignedInDriver, tx: Transaction, now: datetime
) -> dict[str, Any]:
    """What the session page shows: the charge, its cost so far, the need, and its CDR."""
    station = await assets.get_station(session, tx.station_id)
    site = await assets.get_site(session, station.site_id)
    issued = await session.scalars(cdrs.cdrs_query(driver.driver_id, tx.id))
    cdr = next((c for c in issued if c.origin != cdrs.CREDIT), None)  # the newest
    estimate = None
    if cdr is None:
        estimate = await estimates.cost_so_far(session, tx, driver.driver_id, now)
    return {
        "tx": tx, "site": site, "tz": site.timezone, "cdr": cdr, "estimate": estimate,
        "need": await driver_needs.declared_need(session, tx.id),
        "power_kw": (tx.power_last_w or 0.0) / 1000, "live": tx.state == "active",
        "following": tx.state == "active" or cdr is None,
    }  # fmt: skip


async def render_session(
    request: Request,
    driver: SignedInDriver,
    transaction_pk: int,
    template: str = "account_charge_session.html",
    error: str = "",
    code: int = 200,
    notice: str = "",
) -> Response:
    services = services_of(request)
    async with services.read_sessions() as session, session.begin():
        try:
            uids = await token_uids(session, driver.driver_id)
            tx = await driver_sessions.session_of(session, uids, db_id(transaction_pk))
        except DomainError as exc:
            return not_found(request, driver, exc.message)
        view = await session_view(session, driver, tx, services.clock.now())
    if not view["live"]:
        notice = ""
    return driver_page(request, template, driver, code, error=error, notice=notice, **view)


@router.get("/sessions/{transaction_pk}", response_class=HTMLResponse)
async def session_page(request: Request, transaction_pk: int) -> Response:
    driver = await signed_in_driver(request)
    if driver is None:
        return see_other("/account/login")
    stopping = (
        "The station is stopping your charge." if request.query_params.get("stopping") else ""
    )
    return await render_session(request, driver, transaction_pk, notice=stopping)


@router.get("/sessions/{transaction_pk}/panel", response_class=HTMLResponse)
async def session_panel(request: Request, transaction_pk: int) -> Response:
    driver = await signed_in_driver(request)
    if driver is None:
        return Response(status_code=401, headers={"HX-Redirect": "/account/login"})
    return await render_session(request, driver, transaction_pk, "_account_charge_live.html")


@router.post("/sessions/{transaction_pk}/stop")
async def stop(request: Request, transaction_pk: int) -> Response:
    driver = await signed_in_driver(request)
    if driver is None:
        return see_other("/account/login")
    form = await read_form(request)
    if not hmac.compare_digest(form.get("csrf", "").encode(), driver.csrf.encode()):
        return await render_session(request, driver, transaction_pk, error=EXPIRED_FORM, code=403)
    services = services_of(request)
    try:
        await driver_charging.stop_charge(
            services.read_sessions, services.control, driver.driver_id, transaction_pk
        )
    except DomainError as exc:
        return await render_session(
            request, driver, transaction_pk, error=exc.message, code=exc.status_code
        )
    return see_other(f"/account/charge/sessions/{transaction_pk}?stopping=1")


def parse_need(form: dict[str, str], tz: str) -> tuple[float | None, datetime | None]:
    """The energy (kWh) and the departure (a local time of the site) the driver typed."""
    energy, departure = form.get("energy_kwh", "").strip(), form.get("departure", "").strip()
    try:
        kwh = float(energy) if energy else None
    except ValueError as exc:
        raise InvalidInput("the energy wanted is a number of kWh") from exc
    try:
        leave = datetime.fromisoformat(departure) if departure else None
    except ValueError as exc:
        raise InvalidInput("the departure is a date and a time") from exc
    if leave is not None and leave.tzinfo is None:
        leave = leave.replace(tzinfo=ZoneInfo(tz))
    return kwh, leave


@router.post("/sessions/{transaction_pk}/need")
async def declare_need(request: Request, transaction_pk: int) -> Response:
    driver = await signed_in_driver(request)
    if driver is None:
        return see_other("/account/login")
    form = await read_form(request)
    if not hmac.compare_digest(form.get("csrf", "").encode(), driver.csrf.encode()):
        return await render_session(request, driver, transaction_pk, error=EXPIRED_FORM, code=403)
    services = services_of(request)
    try:
        async with services.uow() as session:
            uids = await token_uids(session, driver.driver_id)
            tx = await driver_sessions.session_of(session, uids, db_id(transaction_pk))
            station = await assets.get_station(session, tx.station_id)
            site = await assets.get_site(session, station.site_id)
            kwh, leave = parse_need(form, site.timezone)
            await driver_needs.declare_by_driver(session, tx, services.clock.now(), kwh, leave)
    except DomainError as exc:
        return await render_session(
            request, driver, transaction_pk, error=exc.message, code=exc.status_code
        )
    return see_other(f"/account/charge/sessions/{transaction_pk}")


@router.get("/history", response_class=HTMLResponse)
async def history_page(request: Request) -> Response:
    driver = await signed_in_driver(request)
    if driver is None:
        return see_other("/account/login")
    async with services_of(request).read_sessions() as session, session.begin():
        uids = await token_uids(session, driver.driver_id)
        sessions = await driver_sessions.sessions_of(session, uids, limit=100)
        issued = await session.scalars(cdrs.cdrs_query(driver.driver_id).limit(500))
        by_tx: dict[int, Any] = {}
        for c in issued:  # newest first: a correction before the CDR it replaces
            if c.origin != cdrs.CREDIT:
                by_tx.setdefault(c.transaction_pk, c)
    tz = services_of(request).settings.invoice_timezone
    return driver_page(request, "account_charge_history.html", driver, sessions=sessions,
                       cdrs=by_tx, tz=tz)  # fmt: skip
