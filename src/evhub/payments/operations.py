"""Provider operations: record the intent, commit, call, record the result.

The provider is never called inside a database transaction. An operation is first stored as
pending under its idempotency key (unique in the database) and committed; then the provider is
called with that key; then its answer is recorded in a second transaction, together with the
payment's new state, the ledger posting and the event. A crash between the two leaves the
operation pending: sending it again with the same key returns the provider's first answer, so
nothing is lost and no money moves twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.clock import Clock
from evhub.events.outbox import emit
from evhub.ledger import service as ledger
from evhub.payments.models import Payment, PaymentOperation
from evhub.payments.port import Money, PaymentProvider, ProviderAnswer, ProviderUnavailable
from evhub.uow import UnitOfWork

log = logging.getLogger("evhub.payments")


@dataclass(frozen=True)
class Call:
    """A pending operation, as what is sent: read in one transaction, sent after it."""

    operation_id: int
    key: str
    kind: str
    amount: Money
    target_ref: str  # authorise: the shopper; capture/cancel: the hold; refund: the capture
    reference: str


async def pending_operation(
    session: AsyncSession,
    payment: Payment,
    key: str,
    kind: str,
    amount: Decimal,
    now: datetime,
    cdr_id: str | None = None,
) -> PaymentOperation:
    """The operation of this key, stored pending if it is new (the key is unique)."""
    op = await session.scalar(
        select(PaymentOperation).where(PaymentOperation.idempotency_key == key)
    )
    if op is None:
        op = PaymentOperation(
            idempotency_key=key, payment_id=payment.id, kind=kind, amount=ledger.cents(amount),
            currency=payment.currency, status="pending", cdr_id=cdr_id, created_at=now,
        )  # fmt: skip
        session.add(op)
        await session.flush()
    return op


async def call_of(session: AsyncSession, op: PaymentOperation) -> Call | None:
    """What to send for a pending operation (None once it is completed)."""
    if op.status != "pending":
        return None
    payment = await session.get_one(Payment, op.payment_id)
    if op.kind == "authorise":
        target = str(payment.driver_id)
    elif op.kind == "refund":
        target = await capture_ref(session, payment.id) or ""
    else:
        target = payment.provider_ref or ""
    money = Money(Decimal(op.amount), op.currency)
    return Call(op.id, op.idempotency_key, op.kind, money, target, f"payment-{payment.id}")


async def capture_ref(session: AsyncSession, payment_id: int) -> str | None:
    return await session.scalar(
        select(PaymentOperation.provider_ref).where(
            PaymentOperation.payment_id == payment_id,
            PaymentOperation.kind == "capture",
            PaymentOperation.status == "succeeded",
        )
    )


async def send(provider: PaymentProvider, call: Call) -> ProviderAnswer:
    if call.kind == "authorise":
        return await provider.authorise(call.key, call.amount, call.target_ref, call.reference)
    if call.kind == "capture":
        return await provider.capture(call.key, call.target_ref, call.amount)
    if call.kind == "cancel":
        return await provider.cancel(call.key, call.target_ref)
    return await provider.refund(call.key, call.target_ref, call.amount)


async def drive(
    uow: UnitOfWork, provider: PaymentProvider, clock: Clock, call: Call
) -> PaymentOperation:
    """Send a pending operation (outside any transaction) and record the answer."""
    answer = await send(provider, call)
    async with uow() as session:
        return await record(session, call.operation_id, answer, clock.now())


async def record(
    session: AsyncSession, operation_id: int, answer: ProviderAnswer, now: datetime
) -> PaymentOperation:
    """The provider's answer, once: a second recording of the same operation changes nothing."""
    op = await session.scalar(
        select(PaymentOperation).where(PaymentOperation.id == operation_id).with_for_update()
    )
    assert op is not None, operation_id
    if op.status != "pending":
        return op
    payment = await session.scalar(
        select(Payment).where(Payment.id == op.payment_id).with_for_update()
    )
    assert payment is not None
    op.status = "succeeded" if answer.approved else "declined"
    op.provider_ref = answer.provider_ref or None
    op.reason = answer.reason
    op.completed_at = now
    payment.updated_at = now
    if answer.approved:
        await _apply_approval(session, payment, op, answer, now)
    else:
        _apply_decline(payment, op)
    kind = f"payment.{op.kind}_{op.status}"
    emit(
        session, kind, now, payment_id=payment.id, driver_id=payment.driver_id,
        transaction_id=payment.transaction_id, amount=str(op.amount), currency=op.currency,
        status=payment.status, reason=op.reason,
    )  # fmt: skip
    log.info(
        "event=%s payment=%s key=%s amount=%s %s",
        kind, payment.id, op.idempotency_key, op.amount, op.currency,
    )  # fmt: skip
    return op


async def _apply_approval(
    session: AsyncSession,
    payment: Payment,
    op: PaymentOperation,
    answer: ProviderAnswer,
    now: datetime,
) -> None:
    receivable = ledger.receivable(payment.driver_id)
    source = f"op:{op.idempotency_key}"
    if op.kind == "authorise":
        # A hold moves no money: nothing is booked until it is captured.
        payment.status = "authorised"
        payment.provider_ref = answer.provider_ref
        payment.authorised_amount = ledger.cents(answer.amount.amount)
    elif op.kind == "capture":
        payment.status = "captured"
        payment.captured_amount = op.amount
        lines = [
            ledger.debit(ledger.CARD_CLEARING, op.amount, op.currency),
            ledger.credit(receivable, op.amount, op.currency),
        ]
        await ledger.post(session, source, "card_capture", f"payment {payment.id}", now, lines)
    elif op.kind == "cancel":
        payment.status = "cancelled"
    else:
        payment.refunded_amount = payment.refunded_amount + op.amount
        full = payment.refunded_amount >= payment.captured_amount
        payment.status = "refunded" if full else "partially_refunded"
        lines = [
            ledger.debit(receivable, op.amount, op.currency),
            ledger.credit(ledger.CARD_CLEARING, op.amount, op.currency),
        ]
        await ledger.post(session, source, "card_refund", f"payment {payment.id}", now, lines)


def _apply_decline(payment: Payment, op: PaymentOperation) -> None:
    """A declined hold ends the payment; a declined capture leaves the driver's debt open
    (collected by other means); a declined release or refund changes nothing of the money."""
    if op.kind == "authorise":
        payment.status = "declined"
    elif op.kind == "capture":
        payment.status = "capture_failed"
    payment.failure_reason = (op.reason or op.kind)[:200]


async def pending_calls(session: AsyncSession, older_than: datetime) -> list[Call]:
    """Operations recorded but never completed (their sender died or gave up)."""
    ops = await session.scalars(
        select(PaymentOperation)
        .where(PaymentOperation.status == "pending", PaymentOperation.created_at < older_than)
        .order_by(PaymentOperation.id)
        .limit(100)
    )
    calls = [await call_of(session, op) for op in ops]
    return [call for call in calls if call is not None]


async def resume_pending(
    uow: UnitOfWork, provider: PaymentProvider, clock: Clock, grace_s: float
) -> int:
    """Send again, with their keys, the operations left pending longer than `grace_s`."""
    async with uow() as session:
        calls = await pending_calls(session, clock.now() - timedelta(seconds=grace_s))
    done = 0
    for call in calls:
        try:
            await drive(uow, provider, clock, call)
        except ProviderUnavailable as exc:
            log.warning("event=resume_failed key=%s error=%s", call.key, exc.message)
            continue
        done += 1
    return done
