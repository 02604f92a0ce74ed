"""evhub as CPO: the CDR of a roaming Session posted to the token's eMSP (OCPI 2.2.1 §10).

Billing issues evhub's CDRs (`cdr.issued`) and knows each as an OCPI CDR; `CdrLookup` is how
roaming asks for it. The roaming facts billing does not hold (our party, the session id, the
token and how it was authorised) are set here. The POST is owed on the Session's own delivery
line, so it reaches the eMSP after the Session's last PUT.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.charging import service as charging
from evhub.events import Event
from evhub.events.relay import TransactionalConsumer
from evhub.roaming import deliveries, partners
from evhub.roaming.context import Identity, RoamingContext
from evhub.roaming.evse_ids import build_evse_id, evse_uid
from evhub.roaming.models import Authorization as Decision
from evhub.roaming.models import Session
from evhub.roaming.wire import InterfaceRole

log = logging.getLogger("evhub.roaming")
ISSUED = "cdr.issued"

CdrLookup = Callable[[AsyncSession, str], Awaitable[dict[str, Any] | None]]
"""The OCPI 2.2.1 CDR object of evhub's CDR `cdr_id` (None: not known)."""


def roaming_cdr(
    identity: Identity, cdr: dict[str, Any], row: Session, decision: Decision
) -> dict[str, Any]:
    """The CDR as the eMSP must receive it (§10.3.1): ours, of this Session and token."""
    out = dict(cdr) | {
        "country_code": identity.country_code,
        "party_id": identity.party_id,
        "session_id": str(row.transaction_id),
        "cdr_token": decision.cdr_token,
        "auth_method": decision.how,
    }
    if decision.authorization_reference:
        out["authorization_reference"] = decision.authorization_reference
    return out


async def queue_cdr(
    session: AsyncSession, identity: Identity, transaction_id: int, cdr: dict[str, Any], now: Any
) -> bool:
    """Owe the Session's eMSP this CDR; False when the transaction is not a roaming one."""
    row = await session.scalar(select(Session).where(Session.transaction_id == transaction_id))
    if row is None:
        return False
    decision = await session.get(Decision, row.authorization_id)
    assert decision is not None
    partner = await partners.get(session, row.partner_id)
    url = partners.endpoint(partner, "cdrs", InterfaceRole.RECEIVER)
    if url is None:
        log.info("event=roaming_cdr_unpushed partner_id=%s reason=no_receiver", row.partner_id)
        return False
    body = roaming_cdr(identity, cdr, row, decision)
    if "cdr_location" in body:
        # The EVSE as the partner knows it from our Locations module (§8.3.2), not billing's
        # own naming: uid and eMI3 EVSE id.
        tx = await charging.get_transaction(session, transaction_id)
        body["cdr_location"] = dict(body["cdr_location"]) | {
            "evse_uid": evse_uid(tx.station_id, tx.evse_id),
            "evse_id": build_evse_id(
                identity.country_code, identity.party_id, tx.station_id, tx.evse_id
            ),
        }
    deliveries.enqueue(session, row.partner_id, f"sessions/{transaction_id}", "POST", url,
                       body, now)  # fmt: skip
    return True


class CdrPusher:
    """Consumer of `cdr.issued`: the CDRs of roaming Sessions go to their eMSPs."""

    def __init__(self, ctx: RoamingContext, lookup: CdrLookup | None) -> None:
        self.ctx = ctx
        self.lookup = lookup

    def consumer(self) -> TransactionalConsumer:
        return TransactionalConsumer("roaming.cdrs", self.handle, frozenset({ISSUED}))

    async def handle(self, session: AsyncSession, event: Event) -> None:
        transaction_id = event.data.get("transaction_id")
        if transaction_id is None:
            return
        exists = await session.scalar(
            select(Session.id).where(Session.transaction_id == int(transaction_id))
        )
        if exists is None:
            return  # not a roaming charge
        cdr = await self.lookup(session, str(event.data["cdr_id"])) if self.lookup else None
        if cdr is None:
            log.warning("event=roaming_cdr_missing cdr_id=%s", event.data.get("cdr_id"))
            return
        await queue_cdr(session, self.ctx.identity, int(transaction_id), cdr, self.ctx.clock.now())
