"""Roaming rules other domains call: real-time authorisation of foreign tokens (as CPO) and
the answer to a CPO's authorisation request for evhub's own tokens (as eMSP)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts import service as accounts
from evhub.roaming import partners, tokens
from evhub.roaming.authorization import NoAnswer, Realtime, ask, asks_realtime, decide
from evhub.roaming.context import Identity, RoamingContext
from evhub.roaming.models import RoamingToken
from evhub.roaming.schemas import Allowed, LocationReferences, TokenType, Whitelist
from evhub.roaming.wire import InterfaceRole, OcpiError, OcpiStatus, Role

log = logging.getLogger("evhub.roaming")

# accounts.authorize statuses as OCPI AllowedType (§12.4.1).
_ALLOWED = {
    "Accepted": Allowed.ALLOWED,
    "Blocked": Allowed.BLOCKED,
    "Expired": Allowed.EXPIRED,
    "NotAtThisTime": Allowed.NOT_ALLOWED,
}


@dataclass(frozen=True)
class RoamingAuthorization:
    """The CPO's decision on an eMSP's token, and what it rests on (for logs and sessions)."""

    allowed: bool
    realtime: Realtime
    token_id: int
    partner_id: int
    contract_id: str
    authorization_reference: str | None = None


async def authorize_roaming(
    ctx: RoamingContext,
    uid: str,
    location: LocationReferences | None = None,
) -> RoamingAuthorization | None:
    """Decide on a token that an eMSP pushed to evhub; None if no eMSP did (not a roaming
    token). Reads, commits, then asks the eMSP: no call is made inside a transaction."""
    async with ctx.uow() as session:
        result = await session.execute(
            select(RoamingToken)
            .where(RoamingToken.uid == uid)
            .order_by(RoamingToken.last_updated.desc(), RoamingToken.id.desc())
            .limit(1)
        )
        token = result.scalar_one_or_none()
        if token is None:
            return None
        partner = await partners.get(session, token.partner_id)
        url = partners.endpoint(partner, "tokens", InterfaceRole.SENDER)
        to = partners.party(partner, Role.EMSP)
        credential = partners.credential(partner) if partner.token_out else None
    whitelist = Whitelist(token.whitelist)
    realtime: Realtime = NoAnswer.NOT_ASKED
    info = None
    if asks_realtime(whitelist) and url and to and credential:
        realtime, info = await ask(ctx.client, url, credential, to, uid, token.type, location,
                                   ctx.request_timeout_s)  # fmt: skip
    allowed = decide(token.valid, whitelist, realtime)
    log.info("event=roaming_authorize uid=%s partner_id=%s whitelist=%s realtime=%s allowed=%s",
             uid, partner.id, whitelist, realtime, allowed)  # fmt: skip
    return RoamingAuthorization(
        allowed, realtime, token.id, partner.id, token.contract_id,
        info.authorization_reference if info else None,
    )  # fmt: skip


async def answer_authorization(
    session: AsyncSession,
    identity: Identity,
    whitelist: Whitelist,
    uid: str,
    token_type: TokenType,
    location: LocationReferences | None,
    now: datetime,
) -> dict[str, Any]:
    """evhub as eMSP: AuthorizationInfo for one of its tokens (OCPI 2.2.1 §12.2.1.2)."""
    own = await accounts.find_token(session, uid)
    if own is None or tokens.ocpi_type(own) is not token_type:
        raise OcpiError(f"token {uid} ({token_type}) not known", OcpiStatus.UNKNOWN_TOKEN, 404)
    decision = await accounts.authorize(session, uid, now)
    allowed = _ALLOWED.get(decision.status, Allowed.BLOCKED)
    info: dict[str, Any] = {
        "allowed": str(allowed),
        "token": tokens.own_token_object(identity, own, whitelist),
        "authorization_reference": uuid.uuid4().hex,
    }
    if location is not None and allowed is Allowed.ALLOWED:
        info["location"] = location.model_dump(exclude_none=True)
    return info
