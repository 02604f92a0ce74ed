"""The consumer that issues a CDR for every ended transaction, exactly once.

A `TransactionalConsumer`: the CDR, its `cdr.issued` event and the consumer's checkpoint commit
in one database transaction, so a crash issues the CDR once or not yet (and then on restart);
the partial unique index on the transaction is the last guard. Superseded ends (a start on a
busy EVSE ended the one before) are `transaction.ended` too, and get their CDR the same way.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from evhub.billing import cdrs
from evhub.billing.service import Party
from evhub.clock import Clock
from evhub.events import Event
from evhub.events.relay import TransactionalConsumer

CONSUMER = "billing.cdrs"


class CdrIssuer:
    def __init__(self, party: Party, clock: Clock) -> None:
        self.party = party
        self.clock = clock

    def consumer(self) -> TransactionalConsumer:
        return TransactionalConsumer(CONSUMER, self.handle, frozenset({"transaction.ended"}))

    async def handle(self, session: AsyncSession, event: Event) -> None:
        transaction_pk = int(str(event.data["transaction_id"]))
        await cdrs.issue_for_transaction(session, self.clock.now(), self.party, transaction_pk)
