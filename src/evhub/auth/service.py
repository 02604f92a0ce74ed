"""Users and API keys: creation, sign-in, key look-up. Plain async functions, no HTTP."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import anyio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.auth import passwords
from evhub.auth.models import ApiKey, ConsoleSession, User
from evhub.auth.roles import Role
from evhub.errors import Conflict, InvalidInput, NotFound

# last_used_at is a hint for operators, not an audit log: write it at most this often per key.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class Principal:
    """Who makes a request: a console user (with the session's CSRF token) or an API key."""

    kind: str  # "user" or "api_key"
    id: int
    name: str
    role: Role
    csrf: str | None = None
    towns: tuple[str, ...] | None = None  # a funder's towns; None: every town

    @property
    def label(self) -> str:
        return self.name if self.kind == "user" else f"key:{self.name}"


def funder_towns(role: Role, towns: Sequence[str] | None) -> list[str] | None:
    """The towns to store: a funder needs at least one, no other role may have any."""
    cleaned = sorted({t.strip() for t in towns or () if t.strip()}, key=str.lower)
    if role is Role.FUNDER and not cleaned:
        raise InvalidInput("a funder sees only its towns: name at least one")
    if role is not Role.FUNDER and cleaned:
        raise InvalidInput(f"only a funder is limited to towns, not a {role}")
    return cleaned or None


async def create_user(
    session: AsyncSession,
    name: str,
    password: str,
    role: Role,
    now: datetime,
    towns: Sequence[str] | None = None,
) -> User:
    name = name.strip()
    if not name:
        raise InvalidInput("a user needs a name")
    if len(password) < passwords.MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"a password has at least {passwords.MIN_PASSWORD_LENGTH} characters")
    if await _user_named(session, name) is not None:
        raise Conflict(f"user {name!r} exists")
    encoded = await anyio.to_thread.run_sync(passwords.hash_password, password)
    user = User(
        name=name,
        password_hash=encoded,
        role=str(role),
        towns=funder_towns(role, towns),
        active=True,
        created_at=now,
    )
    session.add(user)
    await session.flush()
    return user


async def authenticate_user(
    session: AsyncSession, name: str, password: str, now: datetime
) -> User | None:
    """The active user with this name and password, or None (in the same time either way)."""
    user = await _user_named(session, name.strip())
    encoded = user.password_hash if user is not None else passwords.dummy_hash()
    valid = await anyio.to_thread.run_sync(passwords.verify_password, password, encoded)
    if user is None or not valid or not user.active:
        return None
    user.last_login_at = now
    return user


async def get_user(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return user


async def list_users(session: AsyncSession) -> list[User]:
    return list((await session.execute(select(User).order_by(User.name))).scalars())


async def update_user(
    session: AsyncSession,
    user_id: int,
    role: Role | None = None,
    password: str | None = None,
    active: bool | None = None,
    towns: Sequence[str] | None = None,
) -> User:
    user = await get_user(session, user_id)
    if role is not None or towns is not None:
        new_role = role if role is not None else Role(user.role)
        user.towns = funder_towns(new_role, towns if towns is not None else user.towns)
        user.role = str(new_role)
    if active is not None:
        user.active = active
    if password is not None:
        if len(password) < passwords.MIN_PASSWORD_LENGTH:
            raise InvalidInput(
                f"a password has at least {passwords.MIN_PASSWORD_LENGTH} characters"
            )
        user.password_hash = await anyio.to_thread.run_sync(passwords.hash_password, password)
    return user


async def create_api_key(
    session: AsyncSession,
    name: str,
    role: Role,
    now: datetime,
    key: str | None = None,
    towns: Sequence[str] | None = None,
) -> tuple[ApiKey, str]:
    """A new key (random unless given); the key itself is returned once and never stored."""
    key = key or passwords.generate_api_key()
    row = ApiKey(
        name=name or "unnamed",
        prefix=passwords.key_prefix(key),
        key_hash=passwords.key_digest(key),
        role=str(role),
        towns=funder_towns(role, towns),
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row, key


async def ensure_api_key(
    session: AsyncSession, key: str, name: str, role: Role, now: datetime
) -> ApiKey:
    """The key with this value, created if missing (a bootstrap key from the settings)."""
    existing = await _key_by_digest(session, passwords.key_digest(key))
    if existing is not None:
        return existing
    row, _ = await create_api_key(session, name, role, now, key)
    return row


async def principal_for_key(session: AsyncSession, key: str, now: datetime) -> Principal | None:
    row = await active_key(session, key)
    if row is None:
        return None
    if last_use_due(row, now):
        row.last_used_at = now
    return key_principal(row)


def key_principal(row: ApiKey) -> Principal:
    return Principal("api_key", row.id, row.name, Role(row.role), None, _towns(row.towns))


async def active_key(session: AsyncSession, key: str) -> ApiKey | None:
    """The unrevoked key with this value (a read: works on a read-only session)."""
    row = await _key_by_digest(session, passwords.key_digest(key))
    return row if row is not None and row.revoked_at is None else None


def last_use_due(row: ApiKey, now: datetime) -> bool:
    return row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION


async def touch_key(session: AsyncSession, key_id: int, now: datetime) -> None:
    row = await session.get(ApiKey, key_id)
    if row is not None:
        row.last_used_at = now


async def start_session(
    session: AsyncSession, user_id: int, now: datetime, max_age: timedelta
) -> str:
    """A new server-side session record for a sign-in; its id goes into the cookie."""
    session_id = secrets.token_urlsafe(32)
    session.add(
        ConsoleSession(id=session_id, user_id=user_id, created_at=now, expires_at=now + max_age)
    )
    await session.flush()
    return session_id


async def revoke_session(session: AsyncSession, session_id: str, now: datetime) -> None:
    row = await session.get(ConsoleSession, session_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = now


async def principal_for_user(
    session: AsyncSession, user_id: int, csrf: str, session_id: str | None, now: datetime
) -> Principal | None:
    """The signed-in user, if the cookie's session record is live (not revoked, not expired)
    and the user still active."""
    if session_id is None:
        return None
    record = await session.get(ConsoleSession, session_id)
    if record is None or record.user_id != user_id or record.revoked_at is not None:
        return None
    if record.expires_at <= now:
        return None
    user = await session.get(User, user_id)
    if user is None or not user.active:
        return None
    return Principal("user", user.id, user.name, Role(user.role), csrf, _towns(user.towns))


def _towns(stored: list[str] | None) -> tuple[str, ...] | None:
    return tuple(stored) if stored is not None else None


async def list_api_keys(session: AsyncSession) -> list[ApiKey]:
    return list((await session.execute(select(ApiKey).order_by(ApiKey.id))).scalars())


async def revoke_api_key(session: AsyncSession, key_id: int, now: datetime) -> ApiKey:
    row = await session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"API key {key_id} not found")
    if row.revoked_at is None:
        row.revoked_at = now
    return row


async def _user_named(session: AsyncSession, name: str) -> User | None:
    result = await session.execute(select(User).where(User.name == name))
    return result.scalar_one_or_none()


async def _key_by_digest(session: AsyncSession, digest: str) -> ApiKey | None:
    result = await session.execute(select(ApiKey).where(ApiKey.key_hash == digest))
    return result.scalar_one_or_none()
