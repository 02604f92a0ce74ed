"""Signing in and out of the console. The session is a signed cookie (see auth.signing) naming
a session record on the server, which signing out revokes."""

from __future__ import annotations

import hmac
import time
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from evhub.auth import service as auth
from evhub.auth.deps import SESSION_COOKIE, session_of
from evhub.auth.roles import Role
from evhub.auth.signing import SessionData, encode_session
from evhub.services import Services
from evhub.web.console import PageReportReader, read_form, render

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only paths of this site: never an absolute or protocol-relative URL."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _set_session(request: Request, response: Response, data: SessionData) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        encode_session(request.app.state.secret, data),
        max_age=int(float(request.app.state.settings.session_max_age_h) * 3600),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str = "/") -> Response:
    data = session_of(request)
    if data is not None and data.user_id is not None:
        return RedirectResponse(_safe_next(next), status_code=status.HTTP_303_SEE_OTHER)
    return _login_form(request, next, data, "")


def _login_form(
    request: Request, next_url: str, data: SessionData | None, error: str, code: int = 200
) -> Response:
    if data is None:
        data = SessionData.anonymous(time.time())
    response = render(
        request, "login.html", None, csrf_login=data.csrf, next=_safe_next(next_url), error=error
    )
    response.status_code = code
    _set_session(request, response, data)
    return response


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    form = await read_form(request)
    data = session_of(request)
    next_url = _safe_next(form.get("next"))
    if data is None or not hmac.compare_digest(form.get("csrf", ""), data.csrf):
        return _login_form(request, next_url, None, "The form had expired: try again.", 400)
    services: Services = request.app.state.services
    max_age = timedelta(hours=float(request.app.state.settings.session_max_age_h))
    async with services.uow() as session:
        user = await auth.authenticate_user(
            session, form.get("name", ""), form.get("password", ""), services.clock.now()
        )
        if user is None:
            session_id = None
        else:
            # Wall-clock time, as the cookie's own expiry (see auth.deps.session_of).
            session_id = await auth.start_session(session, user.id, datetime.now(UTC), max_age)
            user_id = user.id
            if user.role == Role.FUNDER and next_url == "/":
                next_url = "/reports"  # the one page a funder may see
    if session_id is None:
        return _login_form(request, next_url, data, "Unknown user or wrong password.", 401)
    response = RedirectResponse(next_url, status_code=status.HTTP_303_SEE_OTHER)
    # A fresh session (and CSRF token) at sign-in: a token planted before it is worthless.
    _set_session(request, response, SessionData.signed_in(user_id, time.time(), session_id))
    return response


@router.get("/logout", response_class=HTMLResponse)
async def logout_page(request: Request, principal: PageReportReader) -> Response:
    return render(request, "logout.html", principal)


@router.post("/logout")
async def logout(request: Request, principal: PageReportReader) -> Response:
    """Revoke the session on the server: a copy of the cookie is refused from now on."""
    data = session_of(request)
    if data is not None and data.session_id is not None:
        services: Services = request.app.state.services
        async with services.uow() as session:
            await auth.revoke_session(session, data.session_id, datetime.now(UTC))
    response = RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
