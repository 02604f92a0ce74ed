"""The signed-in driver, as a FastAPI dependency: apart from operators' keys and sessions.

An app sends `Authorization: Bearer drv_...` (the session token from sign-in); the driver
pages hold the same token in the `evhub_driver` cookie, and then a request that changes
something carries the session's CSRF token (`X-CSRF-Token`, or the form's `csrf` field).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from evhub.accounts import selfservice
from evhub.accounts.config import AccountConfig
from evhub.accounts.errors import NotSignedIn
from evhub.auth.deps import CSRF_HEADER, SAFE_METHODS
from evhub.auth.signing import sign
from evhub.errors import DomainError
from evhub.services import Services

DRIVER_COOKIE = "evhub_driver"


class CsrfMissing(DomainError):
    status_code = 403


@dataclass(frozen=True)
class SignedInDriver:
    driver_id: int
    name: str
    session_id: str
    csrf: str


def account_config(request: Request) -> AccountConfig:
    config: AccountConfig = request.app.state.account_config
    return config


def csrf_for(secret: bytes, session_id: str) -> str:
    return sign(secret, "driver-csrf", session_id.encode())[:32]


async def signed_in_driver(request: Request) -> SignedInDriver | None:
    """The driver of the request's bearer token or cookie, if its session is live."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    session_id = token.strip() if scheme.lower() == "bearer" else ""
    from_cookie = not session_id
    if from_cookie:
        session_id = request.cookies.get(DRIVER_COOKIE, "")
    if not session_id:
        return None
    services: Services = request.app.state.services
    async with services.read_sessions() as session, session.begin():
        driver = await selfservice.driver_for_session(session, session_id, services.clock.now())
    if driver is None:
        return None
    secret = account_config(request).secret
    return SignedInDriver(driver.id, driver.name, session_id, csrf_for(secret, session_id))


async def current_driver(request: Request) -> SignedInDriver:
    signed_in = await signed_in_driver(request)
    if signed_in is None:
        raise NotSignedIn("not signed in: send 'Authorization: Bearer <driver session token>'")
    cookie = request.cookies.get(DRIVER_COOKIE)
    if request.method not in SAFE_METHODS and cookie == signed_in.session_id:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(), signed_in.csrf.encode()):
            raise CsrfMissing(f"CSRF token missing or wrong ({CSRF_HEADER})")
    return signed_in


CurrentDriver = Annotated[SignedInDriver, Depends(current_driver)]
AccountConfigDep = Annotated[AccountConfig, Depends(account_config)]
