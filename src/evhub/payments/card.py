"""Ad-hoc card payment of pay-as-you-go sessions: a hold when a session starts, the CDR's
amount captured when it is issued (the rest of the hold released), a credit CDR refunded.

Both handlers are plain consumers of the event log (they call the acquirer, which must not
happen inside a transaction): each records its intent, commits, calls, and records the answer
(`operations`). Delivery is at least once; the intent is keyed by the transaction or the CDR,
so a redelivered event sends the same operation with the same key, or nothing once it is done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts import plans
from evhub.accounts import service as accounts
from evhub.accounts.models import Driver
from evhub.clock import Clock
from evhub.errors import Conflict
from evhub.events.log import Event
from evhub.events.relay import Consumer, TransactionalConsumer
from evhub.ledger import service as ledger
from evhub.payments import operations
from evhub.payments.models import ChargedCdr, Payment, PaymentOperation
from evhub.payments.operations import Call
from evhub.payments.port import Money, PaymentProvider
from evhub.uow import UnitOfWork


async def pays_as_you_go(session: AsyncSession, driver: Driver) -> bool:
    """The one rule of who pays by card per session: a driver without a plan, or on the
    pay-as-you-go plan; every other plan is paid by direct debit."""
    plan = await plans.plan_of(session, driver)
    return plan is None or plan.code == plans.DEFAULT_PLAN


class HoldPending(Conflict):
    """A CDR arrived before the hold of its session was answered: retried later."""


@dataclass(frozen=True)
class CardPayments:
    uow: UnitOfWork
    provider: PaymentProvider
    clock: Clock
    hold: Money  # the pre-authorisation asked at the start of a session

    def consumers(self) -> list[Consumer]:
        return [
            Consumer("payments.holds", self.on_transaction_started,
                     frozenset({"transaction.started"})),
            Consumer("payments.captures", self.on_cdr_issued, frozenset({"cdr.issued"})),
        ]  # fmt: skip

    async def on_transaction_started(self, event: Event) -> None:
        async with self.uow() as session:
            call = await open_hold(session, event.data, self.hold, self.clock.now())
        if call is not None:
            await operations.drive(self.uow, self.provider, self.clock, call)

    async def on_cdr_issued(self, event: Event) -> None:
        async with self.uow() as session:
            await record_cdr(session, event.data, event.at)  # booked when it was issued
            call = await settle_cdr(session, event.data, self.clock.now())
        if call is not None:
            await operations.drive(self.uow, self.provider, self.clock, call)


async def book_cdr(session: AsyncSession, event: Event) -> None:
    """Every CDR is booked, card or not, in the transaction of the consumer's checkpoint."""
    await record_cdr(session, event.data, event.at)


def ledger_consumer() -> TransactionalConsumer:
    return TransactionalConsumer("payments.cdrs", book_cdr, frozenset({"cdr.issued"}))


async def open_hold(
    session: AsyncSession, data: dict[str, Any], hold: Money, now: datetime
) -> Call | None:
    """The hold of a started session, stored pending (once per transaction), if its token
    is a pay-as-you-go driver's; an existing pending hold is sent again."""
    tx_id = int(data["transaction_id"])
    payment = await session.scalar(
        select(Payment).where(Payment.method == "card", Payment.transaction_id == tx_id)
    )
    if payment is None:
        driver = await _payg_driver(session, data.get("id_token"))
        if driver is None:
            return None
        payment = Payment(
            driver_id=driver.id, method="card", status="authorising", currency=hold.currency,
            transaction_id=tx_id, created_at=now, updated_at=now,
        )  # fmt: skip
        session.add(payment)
        await session.flush()
    key = f"authorise:tx:{tx_id}"
    op = await operations.pending_operation(session, payment, key, "authorise", hold.amount, now)
    return await operations.call_of(session, op)


async def _payg_driver(session: AsyncSession, id_token: object) -> Driver | None:
    if not isinstance(id_token, str) or not id_token:
        return None
    token = await accounts.find_token(session, id_token)
    if token is None or token.driver_id is None or token.status != "Accepted":
        return None
    driver = await accounts.get_driver(session, token.driver_id)
    return driver if await pays_as_you_go(session, driver) else None


async def settle_cdr(session: AsyncSession, data: dict[str, Any], now: datetime) -> Call | None:
    """Record the CDR and book it (what the driver owes, or is owed back); then the card
    operation it calls for, stored pending: a capture of its amount, a release of a hold of
    which nothing is owed, or the refund of a credit CDR."""
    cdr = await record_cdr(session, data, now)
    if cdr.driver_id is None:
        return None
    if cdr.credit_of is not None:
        return await _refund_of_credit(session, cdr, now)
    if cdr.transaction_id is None:
        return None
    payment = await session.scalar(
        select(Payment).where(
            Payment.method == "card", Payment.transaction_id == cdr.transaction_id
        )
    )
    if payment is None:
        return None
    key_capture, key_cancel = f"capture:cdr:{cdr.cdr_id}", f"cancel:cdr:{cdr.cdr_id}"
    mine = await _op(session, payment.id, ("capture", "cancel"))
    if mine is not None:  # this CDR's operation (or another CDR's: one final capture a hold)
        ours = mine.idempotency_key in (key_capture, key_cancel)
        return await operations.call_of(session, mine) if ours else None
    if payment.status == "authorising":
        raise HoldPending(f"the hold of transaction {cdr.transaction_id} is not answered yet")
    if payment.status != "authorised":
        return None  # declined: the debt stays on the driver's account
    owed = min(ledger.cents(abs(Decimal(cdr.total_incl_vat))), payment.authorised_amount)
    if owed == 0:
        op = await operations.pending_operation(
            session, payment, key_cancel, "cancel", Decimal(0), now, cdr.cdr_id
        )
    else:
        op = await operations.pending_operation(
            session, payment, key_capture, "capture", owed, now, cdr.cdr_id
        )
    return await operations.call_of(session, op)


async def record_cdr(session: AsyncSession, data: dict[str, Any], now: datetime) -> ChargedCdr:
    """The CDR as received, once, with its booking in the same transaction."""
    cdr_id = str(data["cdr_id"])
    cdr = await session.get(ChargedCdr, cdr_id)
    if cdr is not None:
        return cdr
    driver_id = data.get("driver_id")
    tx_id = data.get("transaction_id")
    cdr = ChargedCdr(
        cdr_id=cdr_id,
        transaction_id=int(tx_id) if tx_id is not None else None,
        driver_id=int(driver_id) if driver_id is not None else None,
        total_incl_vat=Decimal(str(data["total_incl_vat"])),
        total_excl_vat=Decimal(str(data["total_excl_vat"])),
        currency=str(data["currency"]),
        credit_of=str(data["credit_of"]) if data.get("credit_of") else None,
        issued_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(cdr)
            await session.flush()
    except IntegrityError:
        # Booked by the other consumer of `cdr.issued` at the same moment: its row stands.
        return await session.get_one(ChargedCdr, cdr_id, populate_existing=True)
    if cdr.driver_id is not None:
        await ledger.post(
            session, f"cdr:{cdr_id}", "credit_note" if cdr.credit_of else "invoice",
            f"CDR {cdr_id}", now, invoice_lines(cdr),
        )  # fmt: skip
    return cdr


def invoice_lines(cdr: ChargedCdr) -> list[ledger.Line]:
    """Receivable against revenue and VAT; reversed for a credit CDR (whatever its sign)."""
    assert cdr.driver_id is not None
    incl = ledger.cents(abs(Decimal(cdr.total_incl_vat)))
    excl = ledger.cents(abs(Decimal(cdr.total_excl_vat)))
    vat = incl - excl
    owed, c = ledger.receivable(cdr.driver_id), cdr.currency
    if cdr.credit_of is None:
        return [
            ledger.debit(owed, incl, c),
            ledger.credit(ledger.REVENUE, excl, c),
            ledger.credit(ledger.VAT_PAYABLE, vat, c),
        ]
    return [
        ledger.debit(ledger.REVENUE, excl, c),
        ledger.debit(ledger.VAT_PAYABLE, vat, c),
        ledger.credit(owed, incl, c),
    ]


async def _refund_of_credit(session: AsyncSession, cdr: ChargedCdr, now: datetime) -> Call | None:
    """A credit CDR gives back, on the card, what the CDR it corrects took (at most)."""
    captured = await session.scalar(
        select(PaymentOperation).where(
            PaymentOperation.cdr_id == cdr.credit_of,
            PaymentOperation.kind == "capture",
            PaymentOperation.status == "succeeded",
        )
    )
    if captured is None:
        return None  # nothing was taken by card: the credit stays on the driver's account
    payment = await session.get_one(Payment, captured.payment_id)
    key = f"refund:cdr:{cdr.cdr_id}"
    existing = await session.scalar(
        select(PaymentOperation).where(PaymentOperation.idempotency_key == key)
    )
    if existing is not None:
        return await operations.call_of(session, existing)
    left = payment.captured_amount - payment.refunded_amount
    amount = min(ledger.cents(abs(Decimal(cdr.total_incl_vat))), left)
    if amount <= 0:
        return None
    op = await operations.pending_operation(
        session, payment, key, "refund", amount, now, cdr.cdr_id
    )
    return await operations.call_of(session, op)


async def _op(
    session: AsyncSession, payment_id: int, kinds: tuple[str, ...]
) -> PaymentOperation | None:
    return await session.scalar(
        select(PaymentOperation)
        .where(PaymentOperation.payment_id == payment_id, PaymentOperation.kind.in_(kinds))
        .order_by(PaymentOperation.id)
        .limit(1)
    )
