"""Card operations recorded before they are sent: a redelivered start or CDR sends the same
key, a lost answer is sent again and moves money once, a decline ends the payment."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from evhub.accounts import plans
from evhub.accounts import service as accounts
from evhub.clock import FrozenClock
from evhub.ledger import service as ledger
from evhub.payments import card, operations
from evhub.payments.models import Payment, PaymentOperation
from evhub.payments.port import Money, ProviderUnavailable
from tests.unit.payments.conftest import NOW, Db, MemoryProvider

HOLD = Money(Decimal("50.00"), "EUR")


def _started(tx: int, tag: str = "TAG-ADA") -> dict[str, Any]:
    return {"transaction_id": tx, "station_id": "CP-1", "evse_id": 1, "id_token": tag}


def _cdr(
    cdr_id: str, tx: int, driver: int, incl: str, credit_of: str | None = None
) -> dict[str, Any]:
    excl = str((Decimal(incl) / Decimal("1.2")).quantize(Decimal("0.01")))
    return {"cdr_id": cdr_id, "transaction_id": tx, "driver_id": driver,
            "total_incl_vat": incl, "total_excl_vat": excl, "currency": "EUR",
            "credit_of": credit_of}  # fmt: skip


async def _hold(db: Db, provider: MemoryProvider, tx: int, tag: str = "TAG-ADA") -> None:
    clock = FrozenClock(NOW)
    async with db.uow() as session:
        call = await card.open_hold(session, _started(tx, tag), HOLD, NOW)
    if call is not None:
        await operations.drive(db.uow, provider, clock, call)


async def _settle(db: Db, provider: MemoryProvider, data: dict[str, Any]) -> None:
    async with db.uow() as session:
        call = await card.settle_cdr(session, data, NOW)
    if call is not None:
        await operations.drive(db.uow, provider, FrozenClock(NOW), call)


async def _payment(db: Db, tx: int) -> Payment:
    async with db.uow() as session:
        found = await session.scalar(select(Payment).where(Payment.transaction_id == tx))
    assert found is not None
    return found


async def test_a_redelivered_start_holds_once(db: Db) -> None:
    provider = MemoryProvider()
    await _hold(db, provider, 7)
    await _hold(db, provider, 7)
    payment = await _payment(db, 7)
    assert (payment.status, payment.authorised_amount) == ("authorised", Decimal("50.00"))
    assert provider.moves == [("hold", Decimal("50.00"))]


async def test_no_hold_for_a_refused_token_or_an_unknown_one(db: Db) -> None:
    provider = MemoryProvider()
    await _hold(db, provider, 8, "TAG-BLOCKED")
    await _hold(db, provider, 9, "NOBODY")
    async with db.uow() as session:
        assert await session.scalar(select(func.count()).select_from(Payment)) == 0
    assert provider.moves == []


async def test_pay_as_you_go_is_decided_by_the_plan(db: Db) -> None:
    async with db.uow() as session:
        ada = await accounts.get_driver(session, db.ada)
        assert await card.pays_as_you_go(session, ada)  # no plan
        await plans.assign_plan(session, ada, plans.DEFAULT_PLAN)
        assert await card.pays_as_you_go(session, ada)
        others = [p.code for p in await plans.list_plans(session) if p.code != plans.DEFAULT_PLAN]
        assert others
        await plans.assign_plan(session, ada, others[0])
        assert not await card.pays_as_you_go(session, ada)
    provider = MemoryProvider()
    await _hold(db, provider, 15)
    assert provider.moves == []  # a subscriber's session is not held on a card


async def test_a_lost_capture_answer_is_resent_with_its_key_and_moves_money_once(db: Db) -> None:
    provider = MemoryProvider()
    await _hold(db, provider, 10)
    provider.lose_next = 1
    with pytest.raises(ProviderUnavailable):
        await _settle(db, provider, _cdr("CDR-1", 10, db.ada, "18.00"))
    assert (await _payment(db, 10)).status == "authorised"  # the intent only
    assert (
        await operations.resume_pending(
            db.uow, provider, FrozenClock(NOW + timedelta(minutes=5)), 60
        )
        == 1
    )
    await _settle(db, provider, _cdr("CDR-1", 10, db.ada, "18.00"))  # the event redelivered
    payment = await _payment(db, 10)
    assert (payment.status, payment.captured_amount) == ("captured", Decimal("18.00"))
    assert provider.moves == [("hold", Decimal("50.00")), ("capture", Decimal("18.00"))]
    async with db.uow() as session:
        owed = await ledger.balance(session, ledger.receivable(db.ada), "EUR")
        clearing = await ledger.balance(session, ledger.CARD_CLEARING, "EUR")
        revenue = await ledger.balance(session, ledger.REVENUE, "EUR")
        vat = await ledger.balance(session, ledger.VAT_PAYABLE, "EUR")
    assert (owed, clearing, revenue, vat) == (
        Decimal("0.00"), Decimal("18.00"), Decimal("-15.00"), Decimal("-3.00"),
    )  # fmt: skip


async def test_a_cdr_above_the_hold_captures_the_hold_and_leaves_the_rest_owed(db: Db) -> None:
    provider = MemoryProvider()
    await _hold(db, provider, 11)
    await _settle(db, provider, _cdr("CDR-2", 11, db.ada, "62.40"))
    assert (await _payment(db, 11)).captured_amount == Decimal("50.00")
    async with db.uow() as session:
        assert await ledger.balance(session, ledger.receivable(db.ada), "EUR") == Decimal("12.40")


async def test_a_cdr_of_nothing_releases_the_hold(db: Db) -> None:
    provider = MemoryProvider()
    await _hold(db, provider, 12)
    await _settle(db, provider, _cdr("CDR-3", 12, db.ada, "0.00"))
    assert (await _payment(db, 12)).status == "cancelled"
    assert [kind for kind, _ in provider.moves] == ["hold", "cancel"]


async def test_a_declined_hold_is_not_captured(db: Db) -> None:
    provider = MemoryProvider(funds=Decimal("20.00"))
    await _hold(db, provider, 13)
    payment = await _payment(db, 13)
    assert (payment.status, payment.failure_reason) == ("declined", "insufficient funds")
    await _settle(db, provider, _cdr("CDR-4", 13, db.ada, "9.00"))
    assert provider.moves == []
    async with db.uow() as session:
        assert await ledger.balance(session, ledger.receivable(db.ada), "EUR") == Decimal("9.00")


async def test_a_credit_cdr_refunds_what_its_cdr_took_once(db: Db) -> None:
    provider = MemoryProvider()
    await _hold(db, provider, 14)
    await _settle(db, provider, _cdr("CDR-5", 14, db.ada, "24.00"))
    credit = _cdr("CDR-5-CR", 14, db.ada, "-24.00", credit_of="CDR-5")
    await _settle(db, provider, credit)
    await _settle(db, provider, credit)
    payment = await _payment(db, 14)
    assert (payment.status, payment.refunded_amount) == ("refunded", Decimal("24.00"))
    assert provider.moves[-1] == ("refund", Decimal("24.00"))
    async with db.uow() as session:
        refunds = await session.scalar(
            select(func.count()).where(PaymentOperation.kind == "refund")
        )
        for account in (ledger.receivable(db.ada), ledger.CARD_CLEARING, ledger.REVENUE):
            assert await ledger.balance(session, account, "EUR") == 0
    assert refunds == 1
