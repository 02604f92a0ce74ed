"""evhub as CPO: a partner's driver badges at an evhub station (`charging.badges.ForeignTokens`).

The decision follows the eMSP's whitelist rule and, when the rule lets evhub ask, its real-time
answer (`service.authorize_roaming`: read, commit, then call). It is recorded with its
authorization_reference, so that the Session and the CDR of the charge carry it. Each badge
(Authorize) is decided afresh; a start that follows an Authorize (or a START_SESSION) at the
same station within `REUSE` takes that decision instead of asking again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts.service import Authorization
from evhub.assets import service as assets
from evhub.events import emit
from evhub.roaming import service
from evhub.roaming.context import RoamingContext
from evhub.roaming.models import Authorization as Decision
from evhub.roaming.models import RoamingToken
from evhub.roaming.schemas import Allowed, LocationReferences

log = logging.getLogger("evhub.roaming")
REUSE = timedelta(minutes=5)
HELD = timedelta(hours=24)  # longer than a charge lasts

# OCPI AllowedType (§12.4.1) as what an OCPP station is told.
_OCPP_STATUS = {
    Allowed.ALLOWED: "Accepted",
    Allowed.BLOCKED: "Blocked",
    Allowed.EXPIRED: "Expired",
    Allowed.NO_CREDIT: "Blocked",
    Allowed.NOT_ALLOWED: "Invalid",
}


def as_ocpp(decision: Decision) -> Authorization:
    if decision.allowed:
        return Authorization("Accepted", f"roaming token of partner {decision.partner_id}")
    try:
        status = _OCPP_STATUS[Allowed(decision.realtime)]
    except ValueError:  # not asked, unreachable, or unknown to the eMSP
        status = "Invalid"
    return Authorization(status, f"refused by roaming partner {decision.partner_id}")


async def recent(
    session: AsyncSession, uid: str, station_id: str, now: datetime
) -> Decision | None:
    """The decision a start of `uid` at the station takes: the latest one not yet used by a
    transaction (within `REUSE`), else the one of its transaction there (within `HELD`: the
    later events of a transaction, its end included, are not asked about again)."""
    result = await session.execute(
        select(Decision)
        .where(
            Decision.uid == uid,
            Decision.station_id == station_id,
            or_(
                and_(Decision.transaction_id.is_(None), Decision.decided_at > now - REUSE),
                and_(Decision.transaction_id.is_not(None), Decision.decided_at > now - HELD),
            ),
        )
        .order_by(Decision.transaction_id.is_not(None), Decision.id.desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


async def taken_by(
    session: AsyncSession, uid: str, station_id: str, started_at: datetime, created_at: datetime
) -> Decision | None:
    """The decision that the start of a transaction took, read after the fact (its Session is
    opened by a consumer of the log, which may run after later badges of the same token).

    The latest unused one decided by the time the transaction was stored (its Authorize),
    else the first decided after (a start without an Authorize is decided after its commit),
    else the one of an earlier transaction of the token there (within `HELD`). Decisions and
    `created_at` both come from this server's clock; the station's start time only bounds the
    window."""
    mine = (Decision.uid == uid, Decision.station_id == station_id)
    unused = select(Decision).where(
        *mine, Decision.transaction_id.is_(None), Decision.decided_at > started_at - REUSE
    )
    before = await session.scalar(
        unused.where(Decision.decided_at <= created_at).order_by(Decision.id.desc()).limit(1)
    )
    if before is not None:
        return before
    after = await session.scalar(
        unused.where(Decision.decided_at > created_at).order_by(Decision.id).limit(1)
    )
    if after is not None:
        return after
    return await session.scalar(
        select(Decision)
        .where(*mine, Decision.transaction_id.is_not(None), Decision.decided_at > started_at - HELD)
        .order_by(Decision.id.desc())
        .limit(1)
    )


def cdr_token(token: RoamingToken) -> dict[str, str]:
    """OCPI 2.2.1 §10.4.3 CdrToken of a stored token."""
    return {"country_code": token.country_code, "party_id": token.party_id,
            "uid": token.uid, "type": token.type, "contract_id": token.contract_id}  # fmt: skip


class RoamingBadges:
    def __init__(self, ctx: RoamingContext) -> None:
        self.ctx = ctx

    async def authorize(self, uid: str, station_id: str, starting: bool) -> Authorization | None:
        """A badge is decided afresh; a start takes the decision of its Authorize (or of the
        eMSP's START_SESSION) when there is one."""
        now = self.ctx.clock.now()
        async with self.ctx.uow() as session:
            reused = await recent(session, uid, station_id, now) if starting else None
            if reused is not None:
                return as_ocpp(reused)
            station = await assets.get_station(session, station_id)
            where = LocationReferences(location_id=str(station.site_id))
        decision = await service.authorize_roaming(self.ctx, uid, where)  # outside a transaction
        if decision is None:
            return None
        async with self.ctx.uow() as session:
            token = await session.get(RoamingToken, decision.token_id)
            if token is None:  # withdrawn meanwhile
                return None
            asked = isinstance(decision.realtime, Allowed)
            row = Decision(
                partner_id=decision.partner_id, uid=uid, station_id=station_id,
                allowed=decision.allowed, how="AUTH_REQUEST" if asked else "WHITELIST",
                realtime=str(decision.realtime),
                authorization_reference=decision.authorization_reference,
                cdr_token=cdr_token(token), decided_at=now,
            )  # fmt: skip
            session.add(row)
            await session.flush()
            emit(session, "roaming.token_authorized", now, uid=uid, station_id=station_id,
                 partner_id=decision.partner_id, allowed=decision.allowed)  # fmt: skip
            return as_ocpp(row)
