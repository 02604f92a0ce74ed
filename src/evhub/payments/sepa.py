"""Monthly SEPA Core direct debit batches (pain.008.001.02) and their returns.

A month's batch collects from each active mandate what its driver owes at the end of the month
(his receivable in the ledger), once per mandate and month (a unique key): generating the
batch again writes the same collections to the file and books nothing twice. The first
collection of a mandate is FRST, the next ones RCUR; after a first one is returned the next is
FRST again (SEPA SDD Core Rulebook §4.3, AT-21). A return (R-transaction) marks the payment
failed and books the debt back on the driver.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sepaxml import SepaDD
from sepaxml.validation import ValidationError
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.errors import InvalidInput, NotFound
from evhub.events.outbox import emit
from evhub.ledger import service as ledger
from evhub.ledger.models import JournalEntry, JournalLine
from evhub.payments.models import Payment, SepaMandate
from evhub.settings import Settings

SCHEMA = "pain.008.001.02"
SEPA_KINDS = ("sepa_collection", "sepa_return")
# Returns after which the mandate cannot be used again (EPC SDD Core reason codes).
MANDATE_ENDING_REASONS = frozenset({"AC04", "AC06", "MD01", "MD07", "SL01"})


@dataclass(frozen=True)
class Creditor:
    name: str
    iban: str
    bic: str
    creditor_id: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Creditor:
        if not (settings.sepa_creditor_iban and settings.sepa_creditor_bic
                and settings.sepa_creditor_id):  # fmt: skip
            raise InvalidInput(
                "set EVHUB_SEPA_CREDITOR_IBAN, EVHUB_SEPA_CREDITOR_BIC and EVHUB_SEPA_CREDITOR_ID"
            )
        return cls(
            settings.sepa_creditor_name, settings.sepa_creditor_iban,
            settings.sepa_creditor_bic, settings.sepa_creditor_id,
        )  # fmt: skip


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """[start, end) of a YYYY-MM month in UTC."""
    try:
        start = datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)
    except ValueError as exc:
        raise InvalidInput(f"not a month YYYY-MM: {month!r}") from exc
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


async def owed_at(session: AsyncSession, driver_id: int, currency: str, end: datetime) -> Decimal:
    """What the driver owes for what was booked before `end`, less what direct debits have
    collected since (net of their returns), whenever they were booked."""
    total = await session.scalar(
        select(func.coalesce(func.sum(JournalLine.debit - JournalLine.credit), 0))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(
            JournalLine.account == ledger.receivable(driver_id),
            JournalLine.currency == currency,
            or_(JournalEntry.posted_at < end, JournalEntry.kind.in_(SEPA_KINDS)),
        )
    )
    return ledger.cents(Decimal(str(total or 0)))


async def collect_month(
    session: AsyncSession, month: str, currency: str, now: datetime
) -> list[Payment]:
    """The month's collections: new ones booked for mandates that have something owed; the
    ones already made (and not returned) kept as they are."""
    _, end = month_bounds(month)
    mandates = await session.scalars(
        select(SepaMandate).where(SepaMandate.status == "active").order_by(SepaMandate.id)
    )
    seen_drivers: set[int] = set()
    for mandate in mandates:
        if mandate.driver_id in seen_drivers:
            continue  # one mandate collects for a driver: the oldest active one
        seen_drivers.add(mandate.driver_id)
        existing = await session.scalar(
            select(Payment).where(Payment.mandate_id == mandate.id, Payment.month == month)
        )
        if existing is not None:
            continue
        owed = await owed_at(session, mandate.driver_id, currency, end)
        if owed > 0:
            await _collect(session, mandate, month, owed, currency, now)
    result = await session.scalars(
        select(Payment)
        .where(Payment.method == "sepa", Payment.month == month, Payment.status == "submitted")
        .order_by(Payment.id)
    )
    return list(result)


async def _collect(
    session: AsyncSession, mandate: SepaMandate, month: str, amount: Decimal, currency: str,
    now: datetime,
) -> Payment:  # fmt: skip
    collected_before = await session.scalar(
        select(func.count()).where(Payment.mandate_id == mandate.id, Payment.status != "returned")
    )
    payment = Payment(
        driver_id=mandate.driver_id, method="sepa", status="submitted", currency=currency,
        authorised_amount=amount, captured_amount=amount, mandate_id=mandate.id, month=month,
        sequence_type="RCUR" if collected_before else "FRST",
        end_to_end_id=f"EVH-{month}-M{mandate.id}", created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(payment)
    await session.flush()
    await ledger.post(
        session, f"sepa:{payment.end_to_end_id}", "sepa_collection",
        f"direct debit {month} mandate {mandate.reference}", now,
        [ledger.debit(ledger.SEPA_CLEARING, amount, currency),
         ledger.credit(ledger.receivable(mandate.driver_id), amount, currency)],
    )  # fmt: skip
    emit(
        session, "payment.sepa_submitted", now, payment_id=payment.id,
        driver_id=payment.driver_id, amount=str(amount), currency=currency, month=month,
    )  # fmt: skip
    return payment


def collection_date(month: str, today: date) -> date:
    """The 5th of the next month, or two days from today if that is sooner (CORE: D-1)."""
    _, end = month_bounds(month)
    return max(end.date() + timedelta(days=4), today + timedelta(days=2))


async def pain008(
    session: AsyncSession, creditor: Creditor, payments: list[Payment], collect_on: date
) -> bytes:
    """The pain.008.001.02 document of the collections, validated against its XSD."""
    if not payments:
        raise InvalidInput("no collections: a pain.008 file holds at least one")
    config: dict[str, Any] = {
        "name": creditor.name, "IBAN": creditor.iban, "BIC": creditor.bic, "batch": True,
        "creditor_id": creditor.creditor_id, "currency": "EUR", "instrument": "CORE",
    }  # fmt: skip
    document = SepaDD(config, schema=SCHEMA, clean=True)
    for payment in payments:
        assert payment.mandate_id is not None
        mandate = await session.get_one(SepaMandate, payment.mandate_id)
        document.add_payment(
            {
                "name": mandate.debtor_name, "IBAN": mandate.iban, "BIC": mandate.bic,
                "amount": int(payment.captured_amount * 100), "currency": payment.currency,
                "type": payment.sequence_type, "collection_date": collect_on,
                "mandate_id": mandate.reference, "mandate_date": mandate.signed_on,
                "description": f"evhub charging {payment.month}",
                "endtoend_id": payment.end_to_end_id,
            }
        )  # fmt: skip
    try:
        return bytes(document.export(validate=True))
    except ValidationError as exc:
        raise InvalidInput(f"the pain.008 file does not pass its XSD: {exc.__cause__}") from exc


async def record_return(
    session: AsyncSession, end_to_end_id: str, reason_code: str, now: datetime
) -> Payment:
    """An R-transaction (return, refusal, reversal) of a collection: the payment failed, the
    debt is the driver's again; a reason that ends the mandate revokes it."""
    payment = await session.scalar(select(Payment).where(Payment.end_to_end_id == end_to_end_id))
    if payment is None:
        raise NotFound(f"no direct debit {end_to_end_id!r}")
    if payment.status == "returned":
        return payment
    payment.status = "returned"
    payment.failure_reason = reason_code[:200]
    payment.updated_at = now
    amount, currency = payment.captured_amount, payment.currency
    await ledger.post(
        session, f"sepa-return:{end_to_end_id}", "sepa_return",
        f"direct debit {end_to_end_id} returned {reason_code}", now,
        [ledger.debit(ledger.receivable(payment.driver_id), amount, currency),
         ledger.credit(ledger.SEPA_CLEARING, amount, currency)],
    )  # fmt: skip
    if reason_code in MANDATE_ENDING_REASONS and payment.mandate_id is not None:
        mandate = await session.get_one(SepaMandate, payment.mandate_id)
        mandate.status = "revoked"
    emit(
        session, "payment.sepa_returned", now, payment_id=payment.id,
        driver_id=payment.driver_id, reason=reason_code, amount=str(payment.captured_amount),
        currency=payment.currency,
    )  # fmt: skip
    return payment
