"""Posting to the journal, and the balances of its accounts.

Every posting is written by the caller's session, in the transaction of the payment fact it
describes, and keyed by that fact (`source_ref`): posting the same fact again changes nothing.
Amounts are rounded to the cent before they are written: what is booked is what is paid.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy import Table, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import func

from evhub.errors import InvalidInput
from evhub.ledger.models import JournalEntry, JournalLine

CENT = Decimal("0.01")
CARD_CLEARING = "card_clearing"  # captured by the acquirer, not yet paid out to the bank
SEPA_CLEARING = "sepa_clearing"  # direct debits submitted, not yet credited by the bank
BANK = "bank"
REVENUE = "revenue"
VAT_PAYABLE = "vat_payable"

_ENTRIES: Table = JournalEntry.__table__  # type: ignore[assignment]
_LINES: Table = JournalLine.__table__  # type: ignore[assignment]


def receivable(driver_id: int) -> str:
    """What a driver owes (debit) or is owed (credit)."""
    return f"receivable:driver:{driver_id}"


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class Line:
    account: str
    debit: Decimal
    credit: Decimal
    currency: str


def debit(account: str, amount: Decimal, currency: str) -> Line:
    return Line(account, cents(amount), Decimal(0), currency)


def credit(account: str, amount: Decimal, currency: str) -> Line:
    return Line(account, Decimal(0), cents(amount), currency)


def balanced(lines: Sequence[Line]) -> bool:
    """Debits equal credits in each currency (the database checks it again)."""
    totals: dict[str, Decimal] = {}
    for line in lines:
        totals[line.currency] = totals.get(line.currency, Decimal(0)) + line.debit - line.credit
    return bool(lines) and all(total == 0 for total in totals.values())


async def post(
    session: AsyncSession,
    source_ref: str,
    kind: str,
    description: str,
    at: datetime,
    lines: Sequence[Line],
) -> bool:
    """Write one entry; False if an entry of this source was written already. Lines of zero
    are left out (an entry of nothing is not written)."""
    kept = [line for line in lines if line.debit or line.credit]
    if not kept:
        return False
    if not balanced(kept):
        raise InvalidInput(f"unbalanced posting {source_ref}", lines=[str(x) for x in kept])
    if await session.scalar(select(JournalEntry.id).where(JournalEntry.source_ref == source_ref)):
        return False
    entry_id = uuid.uuid4().hex
    rows = [
        {"entry_id": entry_id, "account": x.account, "debit": x.debit, "credit": x.credit,
         "currency": x.currency}
        for x in kept
    ]  # fmt: skip
    try:
        async with session.begin_nested():
            # Lines first: the entry is accepted only over lines that balance (migration 0018).
            await session.execute(insert(_LINES), rows)
            await session.execute(
                insert(_ENTRIES).values(
                    id=entry_id, source_ref=source_ref, kind=kind,
                    description=description[:200], posted_at=at,
                )
            )  # fmt: skip
    except IntegrityError:
        # The same fact posted by a concurrent writer first: its entry stands.
        if await session.scalar(
            select(JournalEntry.id).where(JournalEntry.source_ref == source_ref)
        ):
            return False
        raise
    return True


async def balance(
    session: AsyncSession, account: str, currency: str, before: datetime | None = None
) -> Decimal:
    """Debits minus credits of an account in a currency (up to `before`, excluded)."""
    query = (
        select(func.coalesce(func.sum(JournalLine.debit - JournalLine.credit), 0))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(JournalLine.account == account, JournalLine.currency == currency)
    )
    if before is not None:
        query = query.where(JournalEntry.posted_at < before)
    return cents(Decimal(str(await session.scalar(query) or 0)))


async def entry_lines(session: AsyncSession, source_ref: str) -> list[Line]:
    """The lines of the entry of a source (empty if none was posted)."""
    result = await session.execute(
        select(JournalLine)
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(JournalEntry.source_ref == source_ref)
        .order_by(JournalLine.id)
    )
    return [
        Line(x.account, Decimal(x.debit), Decimal(x.credit), x.currency) for x in result.scalars()
    ]
