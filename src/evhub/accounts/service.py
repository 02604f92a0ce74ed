"""Token registry and authorisation decisions (own tokens; roaming tokens come later).

Whether a token is valid is decided here; where and when its driver may charge (access windows,
quotas) is the reservations domain's rule, which composes this one (`reservations.access`), so
accounts depends on no other domain.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts.models import Driver, Token
from evhub.errors import Conflict, InvalidInput, NotFound

TOKEN_STATUSES = ("Accepted", "Blocked", "Expired", "Invalid")
USER_GROUPS = ("visitor", "resident", "fleet", "staff")


@dataclass(frozen=True)
class Authorization:
    """What the station is told about a token; `reason` is for people (API, logs)."""

    status: str
    reason: str
    token_id: int | None = None
    group_id: str | None = None
    expires_at: datetime | None = None

    @property
    def accepted(self) -> bool:
        return self.status == "Accepted"


async def create_driver(
    session: AsyncSession, name: str, email: str | None, user_group: str, now: datetime
) -> Driver:
    if user_group not in USER_GROUPS:
        raise InvalidInput(f"unknown user group {user_group!r}", allowed=list(USER_GROUPS))
    driver = Driver(name=name, email=email, user_group=user_group, created_at=now)
    session.add(driver)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"a driver with email {email!r} exists already") from exc
    return driver


async def get_driver(session: AsyncSession, driver_id: int) -> Driver:
    driver = await session.get(Driver, driver_id)
    if driver is None:
        raise NotFound(f"driver {driver_id} not found")
    return driver


async def create_token(
    session: AsyncSession,
    uid: str,
    type_: str,
    status: str,
    now: datetime,
    driver_id: int | None = None,
    group_id: str | None = None,
    expires_at: datetime | None = None,
) -> Token:
    if status not in TOKEN_STATUSES:
        raise InvalidInput(f"unknown token status {status!r}", allowed=list(TOKEN_STATUSES))
    if driver_id is not None:
        await get_driver(session, driver_id)
    if await find_token(session, uid) is not None:
        raise Conflict(f"token {uid!r} exists already")
    token = Token(
        uid=uid,
        type=type_,
        status=status,
        driver_id=driver_id,
        group_id=group_id,
        expires_at=expires_at,
        created_at=now,
    )
    session.add(token)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"token {uid!r} exists already") from exc
    return token


async def find_token(session: AsyncSession, uid: str) -> Token | None:
    result = await session.execute(select(Token).where(Token.uid == uid))
    return result.scalar_one_or_none()


def tokens_query() -> Select[Token]:
    """All tokens in id order (a list route pages it)."""
    return select(Token).order_by(Token.id)


async def list_tokens(session: AsyncSession, limit: int = 500, offset: int = 0) -> list[Token]:
    result = await session.execute(tokens_query().limit(limit).offset(offset))
    return list(result.scalars())


async def update_token_status(session: AsyncSession, uid: str, status: str) -> Token:
    if status not in TOKEN_STATUSES:
        raise InvalidInput(f"unknown token status {status!r}", allowed=list(TOKEN_STATUSES))
    token = await find_token(session, uid)
    if token is None:
        raise NotFound(f"token {uid!r} not found")
    token.status = status
    token.blocked_by = "operator" if status == "Blocked" else None
    return token


async def authorize(session: AsyncSession, uid: str, now: datetime) -> Authorization:
    """Decide whether the token `uid` is valid now (OCPP 1.6 §4.2, 2.0.1 C01), wherever it is
    presented; `reservations.access.authorize` adds the site's windows and quotas."""
    token = await find_token(session, uid)
    if token is None:
        return Authorization("Invalid", f"token {uid!r} is not known")
    if token.status != "Accepted":
        return Authorization(
            token.status, f"token {uid!r} is {token.status.lower()}", token.id, token.group_id
        )
    if token.expires_at is not None and token.expires_at <= now:
        return Authorization(
            "Expired", f"token {uid!r} expired at {token.expires_at.isoformat()}", token.id
        )
    return Authorization("Accepted", "ok", token.id, token.group_id, token.expires_at)
