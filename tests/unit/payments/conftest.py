"""A fresh database of each backend with two drivers, and an in-memory provider that keeps
answers by idempotency key and can lose an answer after acting on it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from evhub.accounts import service as accounts
from evhub.db import create_engine, session_factory
from evhub.payments.port import Money, Outcome, ProviderAnswer, ProviderUnavailable
from evhub.uow import UnitOfWork

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@dataclass
class MemoryProvider:
    funds: Decimal = Decimal("100.00")
    answers: dict[str, ProviderAnswer] = field(default_factory=dict)
    moves: list[tuple[str, Decimal]] = field(default_factory=list)
    lose_next: int = 0

    def _once(self, key: str, kind: str, amount: Money, approve: bool) -> ProviderAnswer:
        if key not in self.answers:
            outcome = Outcome.APPROVED if approve else Outcome.DECLINED
            reason = None if approve else "insufficient funds"
            self.answers[key] = ProviderAnswer(outcome, f"{kind}_{uuid.uuid4().hex[:8]}",
                                               amount, reason)  # fmt: skip
            if approve:
                self.moves.append((kind, amount.amount))
        if self.lose_next:
            self.lose_next -= 1
            raise ProviderUnavailable("answer lost")
        return self.answers[key]

    async def authorise(
        self, idempotency_key: str, amount: Money, shopper_ref: str, reference: str
    ) -> ProviderAnswer:
        return self._once(idempotency_key, "hold", amount, amount.amount <= self.funds)

    async def capture(
        self, idempotency_key: str, authorisation_ref: str, amount: Money
    ) -> ProviderAnswer:
        return self._once(idempotency_key, "capture", amount, True)

    async def cancel(self, idempotency_key: str, authorisation_ref: str) -> ProviderAnswer:
        return self._once(idempotency_key, "cancel", Money(Decimal(0), "EUR"), True)

    async def refund(self, idempotency_key: str, capture_ref: str, amount: Money) -> ProviderAnswer:
        return self._once(idempotency_key, "refund", amount, True)


@dataclass
class Db:
    uow: UnitOfWork
    ada: int
    bo: int


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Db]:
    engine = create_engine(database_url)
    uow = UnitOfWork(session_factory(engine))
    async with uow() as session:
        ada = await accounts.create_driver(session, "Ada", None, "visitor", NOW)
        bo = await accounts.create_driver(session, "Bo", None, "visitor", NOW)
        await accounts.create_token(session, "TAG-ADA", "ISO14443", "Accepted", NOW, ada.id)
        await accounts.create_token(session, "TAG-BLOCKED", "ISO14443", "Blocked", NOW, bo.id)
    try:
        yield Db(uow, ada.id, bo.id)
    finally:
        await engine.dispose()
