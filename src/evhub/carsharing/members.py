"""A driver's right to car-share: a plan that includes it, a driving licence on file, valid,
verified once before the driver's first trip. Drivers and their plans belong to accounts and
are only read here. A driver on no plan (an account the operator made, not a charge pass) is
let book on the licence the operator put on file."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts import plans
from evhub.accounts import service as accounts
from evhub.carsharing.errors import NotAMember, PlanWithoutCarsharing
from evhub.carsharing.models import CarsharingMember
from evhub.errors import InvalidInput, NotFound
from evhub.events import emit


async def register(
    session: AsyncSession,
    driver_id: int,
    licence_number: str,
    licence_expires_on: date,
    now: datetime,
) -> CarsharingMember:
    """Put (or renew) a driver's licence on file; a changed licence is verified again."""
    await accounts.get_driver(session, driver_id)
    number = licence_number.strip().upper()
    if not number:
        raise InvalidInput("licence_number is empty")
    member = await session.get(CarsharingMember, driver_id, with_for_update=True)
    if member is None:
        member = CarsharingMember(driver_id=driver_id, created_at=now)
        session.add(member)
    elif member.licence_number != number:
        member.verified_at = None
    member.licence_number, member.licence_expires_on = number, licence_expires_on
    await session.flush()
    emit(
        session,
        "carsharing.member_registered",
        now,
        driver_id=driver_id,
        licence_expires_on=licence_expires_on.isoformat(),
    )
    return member


async def get_member(session: AsyncSession, driver_id: int) -> CarsharingMember:
    member = await session.get(CarsharingMember, driver_id)
    if member is None:
        raise NotFound(f"driver {driver_id} is not a car-sharing member")
    return member


async def check_may_book(session: AsyncSession, driver_id: int, until: date) -> CarsharingMember:
    """A booking needs a plan that includes car-sharing, and a licence on file that is still
    valid at the booking's end."""
    refusal = await plan_refusal(session, driver_id)
    if refusal is not None:
        raise PlanWithoutCarsharing(refusal)
    member = await session.get(CarsharingMember, driver_id)
    if member is None:
        raise NotAMember(f"driver {driver_id} has no driving licence on file")
    if member.licence_expires_on < until:
        raise NotAMember(
            f"the driving licence of driver {driver_id} expires on "
            f"{member.licence_expires_on.isoformat()}"
        )
    return member


async def plan_refusal(session: AsyncSession, driver_id: int) -> str | None:
    """Why the driver's plan lets them book no shared car, or None when it does."""
    plan = await plans.plan_of(session, await accounts.get_driver(session, driver_id))
    if plan is None or plan.carsharing:
        return None
    return f"the plan {plan.name!r} of driver {driver_id} does not include car-sharing"


async def verify_before_first_trip(
    session: AsyncSession, driver_id: int, now: datetime
) -> CarsharingMember:
    """The licence check made once, before the driver's first trip."""
    member = await check_may_book(session, driver_id, now.date())
    if member.verified_at is None:
        member.verified_at = now
        emit(session, "carsharing.member_verified", now, driver_id=driver_id)
    return member
