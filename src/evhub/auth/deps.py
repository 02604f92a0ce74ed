"""Who is calling, and the role each route needs, as FastAPI dependencies.

A route states its rule next to itself: `dependencies=[OPERATOR]` in its decorator, or a
parameter typed `Operator` when it wants to know who calls. API keys come as
`Authorization: Bearer KEY`; the console's signed session cookie is accepted too, and then a
request that changes something must carry the session's CSRF token in `X-CSRF-Token`.
"""

from __future__ import annotations

import hmac
import time
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from evhub.auth import service
from evhub.auth.roles import Role
from evhub.auth.service import Principal
from evhub.auth.signing import SessionData, decode_session
from evhub.services import Services

SESSION_COOKIE = "evhub_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def session_of(request: Request) -> SessionData | None:
    """The console session in the request's cookie, if it is genuine and not expired."""
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    max_age_s = float(request.app.state.settings.session_max_age_h) * 3600
    # Wall-clock time: sessions expire in real hours even when the hub's clock runs fast.
    return decode_session(request.app.state.secret, raw, time.time(), max_age_s)


async def current_principal(request: Request) -> Principal | None:
    """The caller by API key (preferred when both are sent) or by console session.

    The look-up reads on the read-only sessions (on SQLite, beside the writer's connection,
    so that station traffic does not delay authentication); a key's `last_used_at` is written
    at most once a minute."""
    services: Services = request.app.state.services
    now = services.clock.now()
    header = request.headers.get("authorization")
    if header:
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return None
        async with services.read_sessions() as session, session.begin():
            row = await service.active_key(session, key.strip())
        if row is None:
            return None
        if service.last_use_due(row, now):
            async with services.uow() as session:
                await service.touch_key(session, row.id, now)
        return service.key_principal(row)
    data = session_of(request)
    if data is None or data.user_id is None:
        return None
    async with services.read_sessions() as session, session.begin():
        return await service.principal_for_user(
            session, data.user_id, data.csrf, data.session_id, datetime.now(UTC)
        )


class Require:
    """The dependency that lets a request through when its caller has at least `role`."""

    def __init__(self, role: Role) -> None:
        self.role = role

    def role_for(self, method: str) -> Role:
        return self.role

    async def __call__(
        self,
        request: Request,
        principal: Annotated[Principal | None, Depends(current_principal)],
    ) -> Principal:
        if principal is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "not authenticated: send 'Authorization: Bearer <API key>' or sign in",
                headers={"WWW-Authenticate": 'Bearer realm="evhub"'},
            )
        if principal.kind == "user" and request.method not in SAFE_METHODS:
            token = request.headers.get(CSRF_HEADER, "")
            if not principal.csrf or not hmac.compare_digest(token, principal.csrf):
                raise HTTPException(
                    status.HTTP_403_FORBIDDEN, f"CSRF token missing or wrong ({CSRF_HEADER})"
                )
        if not principal.role.allows(self.role):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"this needs the {self.role} role; {principal.label} has {principal.role}",
            )
        return principal


# The reports: every role, a funder included (limited to its towns by the route).
REPORT_READER = Depends(Require(Role.FUNDER))
VIEWER = Depends(Require(Role.VIEWER))
OPERATOR = Depends(Require(Role.OPERATOR))
ADMIN = Depends(Require(Role.ADMIN))

ReportReader = Annotated[Principal, REPORT_READER]
Viewer = Annotated[Principal, VIEWER]
Operator = Annotated[Principal, OPERATOR]
Admin = Annotated[Principal, ADMIN]
