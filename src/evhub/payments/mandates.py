"""SEPA Core direct debit mandates of subscribers: created by the driver (through the app
on his behalf), listed by operators, revoked."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts import service as accounts
from evhub.errors import Conflict, InvalidInput, NotFound
from evhub.events.outbox import emit
from evhub.payments.identifiers import checked_bic, checked_iban, checked_mandate_reference
from evhub.payments.models import SepaMandate

MANDATE_STATUSES = ("active", "revoked")


@dataclass(frozen=True)
class MandateRequest:
    driver_id: int
    debtor_name: str
    iban: str
    signed_on: date
    bic: str | None = None
    reference: str | None = None  # evhub numbers it when none is given


async def create_mandate(
    session: AsyncSession, request: MandateRequest, now: datetime
) -> SepaMandate:
    await accounts.get_driver(session, request.driver_id)
    iban = checked_iban(request.iban)
    bic = checked_bic(request.bic, iban)
    if request.signed_on > now.date():
        raise InvalidInput("a mandate cannot be signed in the future", field="signed_on")
    reference = checked_mandate_reference(
        request.reference or f"EVH-{request.driver_id}-{secrets.token_hex(4).upper()}"
    )
    mandate = SepaMandate(
        reference=reference, driver_id=request.driver_id, debtor_name=request.debtor_name,
        iban=iban, bic=bic, signed_on=request.signed_on, status="active", created_at=now,
    )  # fmt: skip
    session.add(mandate)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"mandate reference {reference!r} exists already") from exc
    emit(session, "mandate.created", now, mandate_id=mandate.id, driver_id=mandate.driver_id)
    return mandate


def mandates_query(driver_id: int | None = None, status: str | None = None) -> Select[SepaMandate]:
    query = select(SepaMandate).order_by(SepaMandate.id)
    if driver_id is not None:
        query = query.where(SepaMandate.driver_id == driver_id)
    if status is not None:
        query = query.where(SepaMandate.status == status)
    return query


async def get_mandate(session: AsyncSession, mandate_id: int) -> SepaMandate:
    mandate = await session.get(SepaMandate, mandate_id)
    if mandate is None:
        raise NotFound(f"mandate {mandate_id} not found")
    return mandate


async def revoke_mandate(
    session: AsyncSession, mandate_id: int, now: datetime, reason: str = "revoked"
) -> SepaMandate:
    mandate = await get_mandate(session, mandate_id)
    if mandate.status != "revoked":
        mandate.status = "revoked"
        emit(session, "mandate.revoked", now, mandate_id=mandate.id, reason=reason)
    return mandate
