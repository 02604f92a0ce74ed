"""Driver pages (phone first): sign-up, e-mail verification, sign-in, password reset, and the
account home (plan, pass, vehicles). Plain forms: they work without JavaScript.

Forms before sign-in carry a double-submit token (a random cookie repeated in the form);
signed-in forms carry the session's CSRF token (`accounts.driver_deps.csrf_for`). The
session itself is the `evhub_driver` cookie, apart from the console's.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from evhub.accounts import passes, plans, selfservice, vehicles
from evhub.accounts.config import AccountConfig
from evhub.accounts.driver_deps import DRIVER_COOKIE, SignedInDriver, signed_in_driver
from evhub.accounts.service import get_driver
from evhub.errors import DomainError
from evhub.services import Services
from evhub.web.console import VENDOR_DIR, read_form, templates

router = APIRouter(prefix="/account", include_in_schema=False)
FORM_COOKIE = "evhub_driver_form"
SIGN_UP_FIELDS = [
    ("name", "Name", "text", "name"),
    ("email", "E-mail", "email", "email"),
    ("password", "Password (8 characters or more)", "password", "new-password"),
]
SIGN_IN_FIELDS = [
    ("email", "E-mail", "email", "username"),
    ("password", "Password", "password", "current-password"),
]
PASSWORD_FIELDS = [("password", "New password", "password", "new-password")]
LINKS = [("/account/login", "Sign in"), ("/account/signup", "Create an account"),
         ("/account/reset", "Forgot your password?")]  # fmt: skip


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _config(request: Request) -> AccountConfig:
    config: AccountConfig = request.app.state.account_config
    return config


def _page(request: Request, name: str, code: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("error", "")
    context.setdefault("notice", "")
    response = templates.TemplateResponse(
        request, name, {"vendor_ready": (VENDOR_DIR / "htmx.min.js").exists(), **context}
    )
    response.status_code = code
    return response


def _form(request: Request, code: int = 200, **context: Any) -> HTMLResponse:
    """An anonymous form page with its double-submit token."""
    token = request.cookies.get(FORM_COOKIE) or secrets.token_urlsafe(24)
    context.setdefault("links", LINKS)
    response = _page(request, "account_form.html", code, csrf=token, **context)
    response.set_cookie(FORM_COOKIE, token, httponly=True, samesite="lax", path="/account")
    return response


def _form_genuine(request: Request, form: dict[str, str]) -> bool:
    cookie = request.cookies.get(FORM_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(form.get("csrf", "").encode(), cookie.encode())


def _see_other(target: str) -> RedirectResponse:
    return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)


EXPIRED_FORM = "The form had expired: try again."


@router.get("/signup", response_class=HTMLResponse)
async def sign_up_page(request: Request) -> Response:
    return _form(request, title="Create your account", action="/account/signup",
                 fields=SIGN_UP_FIELDS, submit="Create account")  # fmt: skip


@router.post("/signup", response_class=HTMLResponse)
async def sign_up(request: Request) -> Response:
    form = await read_form(request)
    again = {"title": "Create your account", "action": "/account/signup",
             "fields": SIGN_UP_FIELDS, "submit": "Create account"}  # fmt: skip
    if not _form_genuine(request, form):
        return _form(request, 400, error=EXPIRED_FORM, **again)
    services = _services(request)
    try:
        async with services.uow() as session:
            await selfservice.sign_up(
                session, _config(request), form.get("name", "") or "Driver",
                form.get("email", ""), form.get("password", ""), services.clock.now(),
            )  # fmt: skip
    except DomainError as exc:
        return _form(request, exc.status_code, error=exc.message, **again)
    return _form(request, title="Check your mail",
                 intro="We sent you a link to confirm your e-mail address.")  # fmt: skip


@router.get("/verify", response_class=HTMLResponse)
async def verify(request: Request, token: str = "") -> Response:
    services = _services(request)
    try:
        async with services.uow() as session:
            await selfservice.verify_email(session, _config(request), token, services.clock.now())
    except DomainError as exc:
        return _form(request, exc.status_code, title="Link not valid", error=exc.message)
    return _form(request, title="E-mail address confirmed", intro="You can sign in now.",
                 links=[("/account/login", "Sign in")])  # fmt: skip


@router.get("/login", response_class=HTMLResponse)
async def sign_in_page(request: Request) -> Response:
    if await signed_in_driver(request) is not None:
        return _see_other("/account")
    return _form(request, title="Sign in", action="/account/login", fields=SIGN_IN_FIELDS,
                 submit="Sign in")  # fmt: skip


@router.post("/login", response_class=HTMLResponse)
async def sign_in(request: Request) -> Response:
    form = await read_form(request)
    again = {"title": "Sign in", "action": "/account/login", "fields": SIGN_IN_FIELDS,
             "submit": "Sign in"}  # fmt: skip
    if not _form_genuine(request, form):
        return _form(request, 400, error=EXPIRED_FORM, **again)
    services, config = _services(request), _config(request)
    email, now = form.get("email", ""), services.clock.now()
    try:
        async with services.uow() as session:
            _, record = await selfservice.sign_in(
                session, config, email, form.get("password", ""), now
            )
    except DomainError as exc:
        if exc.status_code == status.HTTP_403_FORBIDDEN:
            async with services.uow() as session:
                await selfservice.resend_verification(session, config, email, now)
        return _form(request, exc.status_code, error=exc.message, **again)
    response = _see_other("/account")
    response.set_cookie(
        DRIVER_COOKIE, record.id, max_age=int(config.session_max_age.total_seconds()),
        httponly=True, samesite="lax", secure=request.url.scheme == "https", path="/",
    )  # fmt: skip
    return response


@router.get("/reset", response_class=HTMLResponse)
async def reset_page(request: Request) -> Response:
    return _form(request, title="Forgot your password?", action="/account/reset",
                 fields=SIGN_IN_FIELDS[:1], submit="Mail me a link")  # fmt: skip


@router.post("/reset", response_class=HTMLResponse)
async def reset(request: Request) -> Response:
    form = await read_form(request)
    if not _form_genuine(request, form):
        return _form(request, 400, title="Forgot your password?", error=EXPIRED_FORM)
    services = _services(request)
    async with services.uow() as session:
        await selfservice.request_password_reset(
            session, _config(request), form.get("email", ""), services.clock.now()
        )
    intro = "If an account has this address, a link to choose a password is on its way."
    return _form(request, title="Check your mail", intro=intro)


@router.get("/password", response_class=HTMLResponse)
async def password_page(request: Request, token: str = "") -> Response:
    return _form(request, title="Choose a password", action="/account/password",
                 fields=PASSWORD_FIELDS, submit="Save password", token=token)  # fmt: skip


@router.post("/password", response_class=HTMLResponse)
async def set_password(request: Request) -> Response:
    form = await read_form(request)
    again = {"title": "Choose a password", "action": "/account/password",
             "fields": PASSWORD_FIELDS, "submit": "Save password",
             "token": form.get("token")}  # fmt: skip
    if not _form_genuine(request, form):
        return _form(request, 400, error=EXPIRED_FORM, **again)
    services = _services(request)
    try:
        async with services.uow() as session:
            await selfservice.set_password(
                session, _config(request), form.get("token", ""), form.get("password", ""),
                services.clock.now(),
            )  # fmt: skip
    except DomainError as exc:
        return _form(request, exc.status_code, error=exc.message, **again)
    return _form(request, title="Password saved", intro="Sign in with your new password.",
                 links=[("/account/login", "Sign in")])  # fmt: skip


@router.get("", response_class=HTMLResponse)
async def home(request: Request, error: str = "") -> Response:
    driver = await signed_in_driver(request)
    if driver is None:
        return _see_other("/account/login")
    return await render_home(request, driver, error)


async def render_home(
    request: Request, driver: SignedInDriver, error: str = "", code: int = 200
) -> Response:
    async with _services(request).read_sessions() as session, session.begin():
        account = await get_driver(session, driver.driver_id)
        context = {
            "account": account,
            "plan": await plans.plan_of(session, account),
            "plans": await plans.list_plans(session),
            "tokens": await passes.tokens_of(session, driver.driver_id),
            "cards": await passes.cards_of(session, driver.driver_id),
            "vehicles": await vehicles.vehicles_of(session, driver.driver_id),
            "catalogue": await vehicles.catalogue(session),
        }
    return _page(request, "account_home.html", code, csrf=driver.csrf, error=error, **context)
