"""Payments' part of the composition root: the provider chosen by settings, the card
consumers, and the loop that sends again what was left pending."""

from __future__ import annotations

import logging

from evhub.payments.acquirer import HttpAcquirer
from evhub.payments.card import CardPayments, ledger_consumer
from evhub.payments.operations import resume_pending
from evhub.payments.port import Money, NoProvider, PaymentProvider
from evhub.services import Services
from evhub.settings import Settings
from evhub.supervisor import LoopStarter

log = logging.getLogger("evhub.payments")

# An operation younger than this may still be on its way: the resume loop leaves it alone.
RESUME_GRACE_S = 30.0


def build_provider(settings: Settings) -> PaymentProvider:
    if settings.payment_provider == "acquirer":
        return HttpAcquirer(
            settings.acquirer_url,
            settings.acquirer_api_key,
            settings.acquirer_timeout_s,
            settings.acquirer_attempts,
        )
    return NoProvider()


async def close_provider(provider: PaymentProvider) -> None:
    if isinstance(provider, HttpAcquirer):
        await provider.aclose()


def start_payments(once: LoopStarter, services: Services) -> None:
    """CDRs booked in the ledger; card payments of pay-as-you-go sessions, when an acquirer
    is configured."""
    settings = services.settings
    services.relay.add(ledger_consumer())
    if isinstance(services.payments, NoProvider):
        return
    hold = Money(settings.payment_hold_amount, settings.payment_currency)
    card = CardPayments(services.uow, services.payments, services.clock, hold)
    for consumer in card.consumers():
        services.relay.add(consumer)

    async def resume() -> None:
        while True:
            done = await resume_pending(
                services.uow, services.payments, services.clock, RESUME_GRACE_S
            )
            if done:
                log.info("event=pending_operations_resumed count=%d", done)
            await services.clock.sleep(settings.payments_resume_interval_s)

    once.start("payments.resume", resume)  # one sender of pending operations per cluster
