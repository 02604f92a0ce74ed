"""The driver's vehicle-to-grid page (phone first): consent, the floor the battery never goes
below while it feeds the grid, the state of charge wanted at departure, and the charges running
now with whether their station and car can discharge, and what V2G earned this month (the
same reading as `/api/v1/me/v2g`, `v2g_account`). A plain form, posted with the session's
CSRF token; a refused value comes back on the page with its reason."""

from __future__ import annotations

import hmac
import math

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from evhub.accounts.driver_deps import SignedInDriver, signed_in_driver
from evhub.accounts.service import get_driver
from evhub.errors import DomainError, InvalidInput
from evhub.planning import v2g_account, v2x_settings
from evhub.planning.v2x_needs import DriverV2x
from evhub.services import Services
from evhub.web.account_charging import NAV
from evhub.web.console import VENDOR_DIR, read_form, templates

router = APIRouter(prefix="/account", include_in_schema=False)
HERE = "/account/v2g"


def percent(form: dict[str, str], name: str, label: str) -> float | None:
    text = form.get(name, "").strip().rstrip("%").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(f"the {label} must be a number of percent") from None
    if not math.isfinite(value):
        raise InvalidInput(f"the {label} must be a number of percent")
    return value


def choice_of(form: dict[str, str]) -> DriverV2x:
    """The form as a choice (a checkbox sends its field only when ticked)."""
    return v2x_settings.check(
        form.get("consent") == "on",
        percent(form, "min_soc_pct", "floor"),
        percent(form, "target_soc_pct", "target"),
    )


async def render(
    request: Request, driver: SignedInDriver, error: str = "", code: int = 200, notice: str = ""
) -> Response:
    services: Services = request.app.state.services
    async with services.read_sessions() as session, session.begin():
        v2g = await v2g_account.account_of(
            session, services.settings, driver.driver_id, services.clock.now()
        )
        context = {
            "account": await get_driver(session, driver.driver_id),
            "v2g": v2g,
            "charges": v2g.charges,
        }
    response = templates.TemplateResponse(
        request, "account_v2g.html",
        {"vendor_ready": (VENDOR_DIR / "htmx.min.js").exists(), "csrf": driver.csrf,
         "nav": [*NAV, (HERE, "Vehicle-to-grid")], "here": HERE,
         "error": error, "notice": notice, **context},
    )  # fmt: skip
    response.status_code = code
    return response


@router.get("/v2g", response_class=HTMLResponse)
async def v2g_page(request: Request, saved: int = 0) -> Response:
    driver = await signed_in_driver(request)
    if driver is None:
        return RedirectResponse("/account/login", status_code=status.HTTP_303_SEE_OTHER)
    return await render(request, driver, notice="Saved." if saved else "")


@router.post("/v2g", response_class=HTMLResponse)
async def save_v2g(request: Request) -> Response:
    driver = await signed_in_driver(request)
    if driver is None:
        return RedirectResponse("/account/login", status_code=status.HTTP_303_SEE_OTHER)
    form = await read_form(request)
    if not hmac.compare_digest(form.get("csrf", "").encode(), driver.csrf.encode()):
        return await render(request, driver, "The form had expired: try again.", 403)
    services: Services = request.app.state.services
    try:
        choice = choice_of(form)
        async with services.uow() as session:
            await v2x_settings.save(session, driver.driver_id, choice, services.clock.now())
    except DomainError as exc:
        return await render(request, driver, exc.message, exc.status_code)
    return RedirectResponse("/account/v2g?saved=1", status_code=status.HTTP_303_SEE_OTHER)
