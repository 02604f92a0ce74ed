"""The month's reconciliation: for each payment, what was invoiced (CDRs), captured or
collected, and settled by the acquirer, with the differences listed; and what drivers still
owe (or are owed) at the end of the month.

Card payments are those of sessions started in the month, with every CDR of their session;
direct debits those of the month's batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.ledger import service as ledger
from evhub.ledger.models import JournalEntry, JournalLine
from evhub.payments.models import ChargedCdr, Payment, PaymentOperation, Settlement
from evhub.payments.sepa import month_bounds

ZERO = Decimal("0.00")


@dataclass
class PaymentLine:
    payment_id: int
    driver_id: int
    method: str
    status: str
    currency: str
    transaction_id: int | None
    invoiced: Decimal = ZERO
    captured: Decimal = ZERO  # net of refunds; collected for a direct debit
    settled: Decimal = ZERO
    differences: list[str] = field(default_factory=list)


@dataclass
class OpenBalance:
    driver_id: int
    currency: str
    balance: Decimal  # positive: the driver owes it


@dataclass
class Reconciliation:
    month: str
    lines: list[PaymentLine]
    open_balances: list[OpenBalance]

    def total(self, name: str) -> Decimal:
        return sum((getattr(line, name) for line in self.lines), ZERO)


async def reconcile(session: AsyncSession, month: str) -> Reconciliation:
    start, end = month_bounds(month)
    payments = await session.scalars(
        select(Payment)
        .where(
            (
                (Payment.method == "card")
                & (Payment.created_at >= start)
                & (Payment.created_at < end)
            )
            | ((Payment.method == "sepa") & (Payment.month == month))
        )
        .order_by(Payment.id)
    )
    lines = [await _line(session, payment) for payment in payments]
    return Reconciliation(month, lines, await _open_balances(session, end))


async def _line(session: AsyncSession, payment: Payment) -> PaymentLine:
    line = PaymentLine(
        payment.id, payment.driver_id, payment.method, payment.status, payment.currency,
        payment.transaction_id,
    )  # fmt: skip
    line.captured = ledger.cents(payment.captured_amount - payment.refunded_amount)
    if payment.method == "sepa":
        if payment.status == "returned":
            line.captured = ZERO
            line.differences.append(f"returned ({payment.failure_reason})")
        return line
    cdrs = await session.scalars(
        select(ChargedCdr).where(ChargedCdr.transaction_id == payment.transaction_id)
    )
    for cdr in cdrs:
        amount = ledger.cents(abs(Decimal(cdr.total_incl_vat)))
        line.invoiced += -amount if cdr.credit_of else amount
    refs = await session.scalars(
        select(PaymentOperation.provider_ref).where(
            PaymentOperation.payment_id == payment.id,
            PaymentOperation.kind.in_(("capture", "refund")),
            PaymentOperation.status == "succeeded",
        )
    )
    settled = await session.scalar(
        select(func.coalesce(func.sum(Settlement.amount), 0)).where(
            Settlement.provider_ref.in_([r for r in refs if r])
        )
    )
    line.settled = ledger.cents(Decimal(str(settled or 0)))
    if line.captured != line.invoiced:
        line.differences.append(f"captured {line.captured} but invoiced {line.invoiced}")
    if line.settled != line.captured:
        line.differences.append(f"settled {line.settled} of {line.captured} captured")
    return line


async def _open_balances(session: AsyncSession, end: object) -> list[OpenBalance]:
    rows = await session.execute(
        select(
            JournalLine.account,
            JournalLine.currency,
            func.sum(JournalLine.debit - JournalLine.credit),
        )
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(JournalLine.account.like("receivable:driver:%"), JournalEntry.posted_at < end)
        .group_by(JournalLine.account, JournalLine.currency)
        .order_by(JournalLine.account)
    )
    balances = []
    for account, currency, total in rows:
        amount = ledger.cents(Decimal(str(total or 0)))
        if amount != 0:
            balances.append(OpenBalance(int(account.rsplit(":", 1)[1]), currency, amount))
    return balances
