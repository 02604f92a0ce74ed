"""The journal: balanced entries only, each fact once, nothing changed afterwards; the
database refuses what the service would never write."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from evhub.errors import InvalidInput
from evhub.ledger import service as ledger
from evhub.ledger.models import JournalEntry, JournalLine
from tests.unit.payments.conftest import NOW, Db

EUR = "EUR"


def _sale(driver_id: int) -> list[ledger.Line]:
    return [
        ledger.debit(ledger.receivable(driver_id), Decimal("12.00"), EUR),
        ledger.credit(ledger.REVENUE, Decimal("10.00"), EUR),
        ledger.credit(ledger.VAT_PAYABLE, Decimal("2.00"), EUR),
    ]


async def test_a_fact_is_posted_once_and_balances(db: Db) -> None:
    async with db.uow() as session:
        assert await ledger.post(session, "cdr:1", "invoice", "CDR 1", NOW, _sale(db.ada))
        assert not await ledger.post(session, "cdr:1", "invoice", "CDR 1", NOW, _sale(db.ada))
    async with db.uow() as session:
        assert not await ledger.post(session, "cdr:1", "invoice", "CDR 1", NOW, _sale(db.ada))
        assert await ledger.balance(session, ledger.receivable(db.ada), EUR) == Decimal("12.00")
        assert await ledger.balance(session, ledger.REVENUE, EUR) == Decimal("-10.00")
        assert await ledger.balance(session, ledger.VAT_PAYABLE, EUR) == Decimal("-2.00")


async def test_the_service_refuses_an_unbalanced_posting(db: Db) -> None:
    lines = _sale(db.ada)[:2]
    with pytest.raises(InvalidInput):
        async with db.uow() as session:
            await ledger.post(session, "cdr:2", "invoice", "CDR 2", NOW, lines)
    other_currency = [*_sale(db.ada)[:2], ledger.credit(ledger.VAT_PAYABLE, Decimal(2), "CHF")]
    assert not ledger.balanced(other_currency)


async def _raw_entry(db: Db, debit: str, credit: str, currency: str = EUR) -> None:
    entry_id = uuid.uuid4().hex
    async with db.uow() as session:
        await session.execute(
            insert(JournalLine),
            [
                {"entry_id": entry_id, "account": "bank", "debit": Decimal(debit),
                 "credit": Decimal(0), "currency": EUR},
                {"entry_id": entry_id, "account": "revenue", "debit": Decimal(0),
                 "credit": Decimal(credit), "currency": currency},
            ],
        )  # fmt: skip
        await session.execute(
            insert(JournalEntry).values(
                id=entry_id, source_ref=f"raw:{entry_id}", kind="raw", description="",
                posted_at=NOW,
            )
        )  # fmt: skip


async def test_the_database_refuses_an_unbalanced_entry(db: Db) -> None:
    await _raw_entry(db, "10.00", "10.00")  # balanced: accepted
    with pytest.raises((IntegrityError, DBAPIError)):
        await _raw_entry(db, "10.00", "9.99")
    with pytest.raises((IntegrityError, DBAPIError)):
        await _raw_entry(db, "10.00", "10.00", currency="USD")  # balanced per currency only


async def test_the_database_refuses_a_line_without_its_entry(db: Db) -> None:
    with pytest.raises((IntegrityError, DBAPIError)):
        async with db.uow() as session:
            await session.execute(
                insert(JournalLine).values(
                    entry_id="missing", account="bank", debit=Decimal(1), credit=Decimal(0),
                    currency=EUR,
                )
            )  # fmt: skip


async def test_posted_lines_are_never_changed_nor_added_to(db: Db) -> None:
    async with db.uow() as session:
        await ledger.post(session, "cdr:3", "invoice", "CDR 3", NOW, _sale(db.ada))
    with pytest.raises((IntegrityError, DBAPIError)):
        async with db.uow() as session:
            await session.execute(text("UPDATE journal_lines SET debit = 1000"))
    with pytest.raises((IntegrityError, DBAPIError)):
        async with db.uow() as session:
            await session.execute(text("DELETE FROM journal_entries"))
    entry_id = await _entry_id(db, "cdr:3")
    with pytest.raises((IntegrityError, DBAPIError)):
        async with db.uow() as session:
            await session.execute(
                insert(JournalLine).values(
                    entry_id=entry_id, account="bank", debit=Decimal(1), credit=Decimal(0),
                    currency=EUR,
                )
            )  # fmt: skip
    async with db.uow() as session:
        assert await ledger.balance(session, ledger.receivable(db.ada), EUR) == Decimal("12.00")


async def _entry_id(db: Db, source_ref: str) -> str:
    async with db.uow() as session:
        found = await session.scalar(
            text("SELECT id FROM journal_entries WHERE source_ref = :s"), {"s": source_ref}
        )
    assert isinstance(found, str)
    return found
