"""Payments as the API sees them: lists, refunds asked by an operator, settlements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.clock import Clock
from evhub.errors import Conflict, InvalidInput, NotFound
from evhub.ledger import service as ledger
from evhub.payments import operations
from evhub.payments.models import Payment, PaymentOperation, Settlement
from evhub.payments.operations import Call
from evhub.payments.port import PaymentProvider
from evhub.uow import UnitOfWork


def payments_query(
    driver_id: int | None = None, status: str | None = None, method: str | None = None
) -> Select[Payment]:
    query = select(Payment).order_by(Payment.id)
    if driver_id is not None:
        query = query.where(Payment.driver_id == driver_id)
    if status is not None:
        query = query.where(Payment.status == status)
    if method is not None:
        query = query.where(Payment.method == method)
    return query


async def get_payment(session: AsyncSession, payment_id: int) -> Payment:
    payment = await session.get(Payment, payment_id)
    if payment is None:
        raise NotFound(f"payment {payment_id} not found")
    return payment


async def operations_of(session: AsyncSession, payment_id: int) -> list[PaymentOperation]:
    result = await session.scalars(
        select(PaymentOperation)
        .where(PaymentOperation.payment_id == payment_id)
        .order_by(PaymentOperation.id)
    )
    return list(result)


async def open_refund(
    session: AsyncSession, payment_id: int, amount: Decimal, key: str, now: datetime
) -> tuple[PaymentOperation, Call | None]:
    """A refund of a captured card payment, stored pending under the caller's key; the same
    key again returns the same refund (and its result, once known)."""
    existing = await session.scalar(
        select(PaymentOperation).where(PaymentOperation.idempotency_key == key)
    )
    if existing is not None:
        if existing.payment_id != payment_id or existing.kind != "refund":
            raise Conflict("this idempotency key was used for another operation")
        return existing, await operations.call_of(session, existing)
    payment = await session.scalar(
        select(Payment).where(Payment.id == payment_id).with_for_update()
    )
    if payment is None:
        raise NotFound(f"payment {payment_id} not found")
    if payment.method != "card" or payment.status not in ("captured", "partially_refunded"):
        raise Conflict(f"payment {payment_id} is {payment.status}: nothing to refund")
    pending = await session.scalar(
        select(func.coalesce(func.sum(PaymentOperation.amount), 0)).where(
            PaymentOperation.payment_id == payment_id,
            PaymentOperation.kind == "refund",
            PaymentOperation.status == "pending",
        )
    )
    left = payment.captured_amount - payment.refunded_amount - Decimal(str(pending or 0))
    amount = ledger.cents(amount)
    if amount <= 0 or amount > left:
        raise InvalidInput(f"a refund must be above 0 and at most {left}", refundable=str(left))
    op = await operations.pending_operation(session, payment, key, "refund", amount, now)
    return op, await operations.call_of(session, op)


async def refund(
    uow: UnitOfWork,
    provider: PaymentProvider,
    clock: Clock,
    payment_id: int,
    amount: Decimal,
    key: str,
) -> PaymentOperation:
    """Intent, commit, call, result: a refund that the acquirer cannot be reached for stays
    pending and is sent again with its key (`operations.resume_pending`)."""
    async with uow() as session:
        op, call = await open_refund(session, payment_id, amount, key, clock.now())
    if call is None:
        return op
    return await operations.drive(uow, provider, clock, call)


@dataclass(frozen=True)
class SettlementLine:
    provider_ref: str  # the capture (or refund, negative) the acquirer paid out
    amount: Decimal
    currency: str
    settled_on: date


async def record_settlements(
    session: AsyncSession, lines: list[SettlementLine], now: datetime
) -> int:
    """The acquirer's settlement report: card clearing paid to the bank, once per line."""
    added = 0
    for line in lines:
        if await session.scalar(
            select(Settlement.id).where(Settlement.provider_ref == line.provider_ref)
        ):
            continue
        amount = ledger.cents(line.amount)
        session.add(
            Settlement(
                provider_ref=line.provider_ref, amount=amount, currency=line.currency,
                settled_on=line.settled_on, recorded_at=now,
            )
        )  # fmt: skip
        bank, clearing = (
            (ledger.debit, ledger.credit) if amount > 0 else (ledger.credit, ledger.debit)
        )
        await ledger.post(
            session, f"settlement:{line.provider_ref}", "settlement",
            f"acquirer settlement {line.provider_ref}", now,
            [bank(ledger.BANK, abs(amount), line.currency),
             clearing(ledger.CARD_CLEARING, abs(amount), line.currency)],
        )  # fmt: skip
        added += 1
    await session.flush()
    return added
