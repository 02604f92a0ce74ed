"""What every console page shares: templates, the signed-in user, CSRF-checked forms.

Pages state their role like API routes do (`dependencies=[PAGE_VIEWER]` or a parameter typed
`PageViewer`); an anonymous visitor is sent to the login page instead of getting a 401.
A form that changes something carries the session's CSRF token in a hidden `csrf` field (or,
from htmx, in the `X-CSRF-Token` header).
"""

from __future__ import annotations

import hmac
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, quote
from zoneinfo import ZoneInfo

from fastapi import Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from evhub.auth.deps import CSRF_HEADER, SAFE_METHODS, Require, current_principal
from evhub.auth.roles import Role
from evhub.auth.service import Principal

WEB_DIR = Path(__file__).parent
templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))
VENDOR_DIR = WEB_DIR / "static" / "vendor"


class LoginRequired(Exception):
    """Raised by a page dependency when nobody is signed in."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


async def login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    target = f"/login?next={quote(exc.next_url, safe='/')}"
    if request.headers.get("HX-Request"):
        # htmx follows this header with a full page load instead of swapping a fragment.
        return Response(status_code=status.HTTP_401_UNAUTHORIZED, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)


async def read_form(request: Request) -> dict[str, str]:
    """An url-encoded form body as a dict (the first value of each field)."""
    if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
        return {}
    fields = parse_qs((await request.body()).decode(), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


class PageRequire(Require):
    """A console page or action: login redirect instead of 401; CSRF token from the form."""

    async def __call__(
        self,
        request: Request,
        principal: Annotated[Principal | None, Depends(current_principal)],
    ) -> Principal:
        if principal is None or principal.kind != "user":
            path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise LoginRequired(path if request.method in SAFE_METHODS else "/")
        if request.method not in SAFE_METHODS:
            token = request.headers.get(CSRF_HEADER) or (await read_form(request)).get("csrf", "")
            if not principal.csrf or not hmac.compare_digest(token, principal.csrf):
                raise HTTPException(status.HTTP_403_FORBIDDEN, "the form has expired: reload")
        if not principal.role.allows(self.role):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"this needs the {self.role} role; you are {principal.role}",
            )
        return principal


PAGE_REPORT_READER = Depends(PageRequire(Role.FUNDER))
PAGE_VIEWER = Depends(PageRequire(Role.VIEWER))
PAGE_OPERATOR = Depends(PageRequire(Role.OPERATOR))
PageReportReader = Annotated[Principal, PAGE_REPORT_READER]
PageViewer = Annotated[Principal, PAGE_VIEWER]
PageOperator = Annotated[Principal, PAGE_OPERATOR]

NAV = (
    ("/", "Network"),
    ("/transactions", "Transactions"),
    ("/reservations", "Reservations"),
    ("/fleet", "Fleet"),
    ("/tickets", "Tickets"),
    ("/tariffs", "Tariffs"),
    ("/cdrs", "Charges"),
    ("/invoices", "Invoices"),
    ("/payments", "Payments"),
    ("/roaming", "Roaming"),
    ("/energy", "Energy"),
    ("/reports", "Reports"),
)
# A funder sees the reports of its towns, nothing else.
FUNDER_NAV = (("/reports", "Reports"),)


def render(
    request: Request, name: str, principal: Principal | None, **context: Any
) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        name,
        {
            "user": principal,
            "csrf": principal.csrf if principal is not None else "",
            "can_operate": principal is not None and principal.role.allows(Role.OPERATOR),
            "nav": NAV if principal is None or principal.role.allows(Role.VIEWER) else FUNDER_NAV,
            "vendor_ready": (VENDOR_DIR / "htmx.min.js").exists(),
            **context,
        },
    )


def local(value: datetime | None, tz: str = "UTC", fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time in a site's time zone, for display."""
    if value is None:
        return "–"
    return value.astimezone(ZoneInfo(tz)).strftime(fmt)


def kwh(wh: float | None) -> str:
    return "–" if wh is None else f"{wh / 1000:.1f}"


def dict_without(params: dict[str, str], key: str) -> dict[str, str]:
    return {k: v for k, v in params.items() if k != key}


templates.env.filters["local"] = local
templates.env.filters["dict_without"] = dict_without
templates.env.filters["kwh"] = kwh
