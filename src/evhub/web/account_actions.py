"""What a signed-in driver does from the account page: each a form posted with the session's
CSRF token, answered by the page again (303) or by the page with the reason (4xx)."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from datetime import datetime

from fastapi import APIRouter, Request, status
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts import passes, plans, selfservice, vehicles
from evhub.accounts.driver_deps import DRIVER_COOKIE, SignedInDriver, signed_in_driver
from evhub.accounts.service import get_driver
from evhub.errors import DomainError
from evhub.services import Services
from evhub.web.account import render_home
from evhub.web.console import read_form

router = APIRouter(prefix="/account", include_in_schema=False)
Action = Callable[[AsyncSession, SignedInDriver, dict[str, str], datetime], Awaitable[object]]


async def _act(request: Request, action: Action) -> Response:
    driver = await signed_in_driver(request)
    if driver is None:
        return RedirectResponse("/account/login", status_code=status.HTTP_303_SEE_OTHER)
    form = await read_form(request)
    if not hmac.compare_digest(form.get("csrf", "").encode(), driver.csrf.encode()):
        return await render_home(request, driver, "The form had expired: try again.", 403)
    services: Services = request.app.state.services
    try:
        async with services.uow() as session:
            await action(session, driver, form, services.clock.now())
    except DomainError as exc:
        return await render_home(request, driver, exc.message, exc.status_code)
    return RedirectResponse("/account", status_code=status.HTTP_303_SEE_OTHER)


@router.post("/vehicles")
async def add_vehicle(request: Request) -> Response:
    async def action(
        s: AsyncSession, d: SignedInDriver, form: dict[str, str], now: datetime
    ) -> object:
        model = form.get("model_id", "")
        if not model.isdigit() or len(model) > 9:
            raise DomainError("choose a model of the list")
        plate = form.get("plate", "").strip()[:16] or None
        return await vehicles.add_vehicle(s, d.driver_id, int(model), now, plate)

    return await _act(request, action)


@router.post("/tokens/{uid}/status")
async def token_status(request: Request, uid: str) -> Response:
    async def action(
        s: AsyncSession, d: SignedInDriver, form: dict[str, str], now: datetime
    ) -> object:
        return await passes.set_status_by_driver(s, d.driver_id, uid, form.get("status", ""), now)

    return await _act(request, action)


@router.post("/cards")
async def order_card(request: Request) -> Response:
    async def action(
        s: AsyncSession, d: SignedInDriver, form: dict[str, str], now: datetime
    ) -> object:
        return await passes.request_card(s, await get_driver(s, d.driver_id), now)

    return await _act(request, action)


@router.post("/plan")
async def choose_plan(request: Request) -> Response:
    async def action(
        s: AsyncSession, d: SignedInDriver, form: dict[str, str], now: datetime
    ) -> object:
        return await plans.assign_plan(s, await get_driver(s, d.driver_id), form.get("plan", ""))

    return await _act(request, action)


@router.post("/logout")
async def sign_out(request: Request) -> Response:
    async def action(
        s: AsyncSession, d: SignedInDriver, form: dict[str, str], now: datetime
    ) -> object:
        await selfservice.sign_out(s, d.session_id, now)
        return None

    response = await _act(request, action)
    if response.status_code == status.HTTP_303_SEE_OTHER:
        response.headers["location"] = "/account/login"
        response.delete_cookie(DRIVER_COOKIE, path="/")
    return response
