"""The payment provider port: what evhub asks of an acquirer, whichever it is.

Every call carries an idempotency key chosen by evhub and stored before the call: the same key
sent again must return the first answer and move no money a second time, so a call whose answer
was lost is simply made again.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from evhub.errors import DomainError


class Outcome(StrEnum):
    APPROVED = "approved"
    DECLINED = "declined"


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if len(self.currency) != 3 or not self.currency.isupper():
            raise ValueError(f"not an ISO 4217 currency: {self.currency!r}")


@dataclass(frozen=True)
class ProviderAnswer:
    """The provider's decision: its reference for the operation, the amount it moved (or
    held), and a reason when declined."""

    outcome: Outcome
    provider_ref: str
    amount: Money
    reason: str | None = None

    @property
    def approved(self) -> bool:
        return self.outcome == Outcome.APPROVED


class ProviderUnavailable(DomainError):
    """No answer from the provider (timeouts, connection errors, its 5xx): try again later
    with the same idempotency key."""

    status_code = 503


class PaymentProvider(Protocol):
    async def authorise(
        self, idempotency_key: str, amount: Money, shopper_ref: str, reference: str
    ) -> ProviderAnswer:
        """Hold `amount` on the shopper's stored card (a pre-authorisation)."""
        ...

    async def capture(
        self, idempotency_key: str, authorisation_ref: str, amount: Money
    ) -> ProviderAnswer:
        """Take `amount` (at most what was held) once; the rest of the hold is released."""
        ...

    async def cancel(self, idempotency_key: str, authorisation_ref: str) -> ProviderAnswer:
        """Release a hold of which nothing is taken."""
        ...

    async def refund(self, idempotency_key: str, capture_ref: str, amount: Money) -> ProviderAnswer:
        """Give back `amount` of a capture (at most what it took, less earlier refunds)."""
        ...


class NoProvider:
    """No acquirer configured: every call is unavailable (card payments stay pending)."""

    async def authorise(
        self, idempotency_key: str, amount: Money, shopper_ref: str, reference: str
    ) -> ProviderAnswer:
        raise ProviderUnavailable("no payment provider is configured")

    async def capture(
        self, idempotency_key: str, authorisation_ref: str, amount: Money
    ) -> ProviderAnswer:
        raise ProviderUnavailable("no payment provider is configured")

    async def cancel(self, idempotency_key: str, authorisation_ref: str) -> ProviderAnswer:
        raise ProviderUnavailable("no payment provider is configured")

    async def refund(self, idempotency_key: str, capture_ref: str, amount: Money) -> ProviderAnswer:
        raise ProviderUnavailable("no payment provider is configured")
