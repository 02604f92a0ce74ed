"""Drivers on their own: sign-up, e-mail verification, sign-in sessions, password reset.

Passwords are hashed with the console's scrypt (`auth.passwords`), off the event loop. A
driver session is a row of `driver_sessions`, apart from the operators' console sessions:
signing out revokes it, and setting a new password revokes all of the driver's sessions.
"""

from __future__ import annotations

import secrets
from datetime import datetime

import anyio
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts import links, mails, passes, plans
from evhub.accounts.config import AccountConfig
from evhub.accounts.errors import EmailNotVerified, LinkExpired, NotSignedIn
from evhub.accounts.models import Driver, DriverSession
from evhub.auth import passwords
from evhub.errors import Conflict, InvalidInput
from evhub.events import emit
from evhub.mail.outbox import queue_mail

SESSION_PREFIX = "drv_"


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def driver_by_email(session: AsyncSession, email: str) -> Driver | None:
    query = select(Driver).where(func.lower(Driver.email) == normalise_email(email))
    return await session.scalar(query)


def check_password(password: str) -> None:
    if len(password) < passwords.MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"a password has at least {passwords.MIN_PASSWORD_LENGTH} characters")


async def sign_up(
    session: AsyncSession, config: AccountConfig, name: str, email: str, password: str,
    now: datetime,
) -> Driver:  # fmt: skip
    """A new pay-as-you-go account, unverified until the mailed link is followed."""
    check_password(password)
    email = normalise_email(email)
    if await driver_by_email(session, email) is not None:
        raise Conflict("an account exists for this e-mail address: sign in, or reset the password")
    encoded = await anyio.to_thread.run_sync(passwords.hash_password, password)
    driver = Driver(
        name=name.strip(), email=email, user_group="visitor", created_at=now,
        password_hash=encoded,
    )  # fmt: skip
    session.add(driver)
    await session.flush()
    await plans.assign_plan(session, driver, plans.DEFAULT_PLAN)
    emit(session, "driver.signed_up", now, driver_id=driver.id)
    await send_verification(session, config, driver, now)
    return driver


async def send_verification(
    session: AsyncSession, config: AccountConfig, driver: Driver, now: datetime
) -> None:
    assert driver.email is not None
    token = links.link_token(
        config.secret, links.VERIFY, driver.id, now + config.verify_ttl, driver.email
    )
    subject, body = mails.verification(
        driver.name, f"{config.base_url}/account/verify?token={token}"
    )
    await queue_mail(session, "verification", driver.email, subject, body, now)


async def resend_verification(
    session: AsyncSession, config: AccountConfig, email: str, now: datetime
) -> None:
    driver = await driver_by_email(session, email)
    if driver is not None and driver.email_verified_at is None:
        await send_verification(session, config, driver, now)


async def verify_email(
    session: AsyncSession, config: AccountConfig, token: str, now: datetime
) -> Driver:
    """Follow a verification link: the address is proven, the app token issued."""
    driver = await _linked_driver(session, token)
    state = links.check_link(config.secret, links.VERIFY, token, driver.email or "", now) if (
        driver is not None
    ) else "invalid"  # fmt: skip
    if driver is None or state == "invalid":
        raise InvalidInput("this verification link is not valid (altered, or for an old address)")
    if state == "expired":
        raise LinkExpired("this verification link has expired: sign in to get a new one")
    if driver.email_verified_at is None:
        driver.email_verified_at = now
        emit(session, "driver.email_verified", now, driver_id=driver.id)
    await passes.issue_app_token(session, driver, config.country_code, config.provider_id, now)
    return driver


async def sign_in(
    session: AsyncSession, config: AccountConfig, email: str, password: str, now: datetime
) -> tuple[Driver, DriverSession]:
    """A new session for the driver with this e-mail and password (as slow either way)."""
    driver = await driver_by_email(session, email)
    encoded = driver.password_hash if driver and driver.password_hash else passwords.dummy_hash()
    valid = await anyio.to_thread.run_sync(passwords.verify_password, password, encoded)
    if driver is None or driver.password_hash is None or not valid:
        raise NotSignedIn("unknown e-mail address or wrong password")
    if driver.email_verified_at is None:
        # Raising rolls this transaction back: the caller mails a new link in its own one
        # (`resend_verification`).
        raise EmailNotVerified("confirm your e-mail address first: a new link is on its way")
    record = DriverSession(
        id=SESSION_PREFIX + secrets.token_urlsafe(32), driver_id=driver.id, created_at=now,
        expires_at=now + config.session_max_age,
    )  # fmt: skip
    session.add(record)
    await session.flush()
    return driver, record


async def driver_for_session(
    session: AsyncSession, session_id: str, now: datetime
) -> Driver | None:
    """The driver of a live session (not revoked, not expired)."""
    if not session_id.startswith(SESSION_PREFIX):
        return None
    record = await session.get(DriverSession, session_id)
    if record is None or record.revoked_at is not None or record.expires_at <= now:
        return None
    return await session.get(Driver, record.driver_id)


async def sign_out(session: AsyncSession, session_id: str, now: datetime) -> None:
    record = await session.get(DriverSession, session_id)
    if record is not None and record.revoked_at is None:
        record.revoked_at = now


async def request_password_reset(
    session: AsyncSession, config: AccountConfig, email: str, now: datetime
) -> None:
    """Mail a reset link if the address has an account; say nothing either way."""
    driver = await driver_by_email(session, email)
    if driver is None or driver.email is None:
        return
    link = password_link(config, driver, now + config.reset_ttl)
    subject, body = mails.password_reset(driver.name, link)
    await queue_mail(session, "password_reset", driver.email, subject, body, now)


def password_link(config: AccountConfig, driver: Driver, expires: datetime) -> str:
    """A link to choose a password, bound to the current one (it works once)."""
    token = links.link_token(
        config.secret, links.PASSWORD, driver.id, expires, driver.password_hash or ""
    )
    return f"{config.base_url}/account/password?token={token}"


async def set_password(
    session: AsyncSession, config: AccountConfig, token: str, password: str, now: datetime
) -> Driver:
    """Choose a password from a mailed link (reset, or the welcome mail of an order). The
    link proves the address; every session of the driver is revoked."""
    check_password(password)
    driver = await _linked_driver(session, token)
    state = (
        links.check_link(config.secret, links.PASSWORD, token, driver.password_hash or "", now)
        if driver is not None
        else "invalid"
    )
    if driver is None or state == "invalid":
        raise InvalidInput("this link is not valid (altered, or used already)")
    if state == "expired":
        raise LinkExpired("this link has expired: ask for a new one")
    driver.password_hash = await anyio.to_thread.run_sync(passwords.hash_password, password)
    if driver.email_verified_at is None:
        driver.email_verified_at = now
    await session.execute(
        update(DriverSession)
        .where(DriverSession.driver_id == driver.id, DriverSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    emit(session, "driver.password_set", now, driver_id=driver.id)
    return driver


async def _linked_driver(session: AsyncSession, token: str) -> Driver | None:
    driver_id = links.driver_of(token)
    return await session.get(Driver, driver_id) if driver_id is not None else None
