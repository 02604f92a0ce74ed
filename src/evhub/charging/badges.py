"""A badge at a station: evhub's own tokens first, then the tokens partners issued.

The roaming domain implements `ForeignTokens` (it may ask the partner over HTTP), so charging
does not import it; the composition root wires it into the gateway. A foreign token is asked
about only once the local check's transaction is over: no call is made inside a transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from evhub.accounts.service import Authorization
from evhub.reservations import access
from evhub.uow import UnitOfWork


class ForeignTokens(Protocol):
    async def authorize(self, uid: str, station_id: str, starting: bool) -> Authorization | None:
        """The decision on a token a partner issued; None when no partner did. `starting`:
        for a transaction's start, which may take the decision its Authorize just had."""
        ...


def unknown_here(authorization: Authorization) -> bool:
    """evhub holds no token of that uid (its own refused tokens carry their id)."""
    return authorization.token_id is None and authorization.status == "Invalid"


async def authorize_badge(
    uow: UnitOfWork,
    foreign: ForeignTokens | None,
    uid: str,
    now: datetime,
    station_id: str,
) -> Authorization:
    """OCPP 1.6 Authorize / 2.0.1 C01: the local decision (`reservations.access`), and for a
    token unknown here the roaming one (OCPI 2.2.1 §12.4.5 whitelist, §12.2.1.2 real time)."""
    async with uow() as session:
        authorization = await access.authorize(session, uid, now, station_id=station_id)
    if foreign is None or not unknown_here(authorization):
        return authorization
    return await foreign.authorize(uid, station_id, starting=False) or authorization


async def settle(
    foreign: ForeignTokens | None,
    authorization: Authorization | None,
    uid: str | None,
    station_id: str,
) -> Authorization | None:
    """What to tell the station about `uid` once the local decision is committed (a start's
    transaction is stored whatever the answer: OCPP 1.6 §4.8, 2.0.1 E05)."""
    if foreign is None or authorization is None or uid is None or not unknown_here(authorization):
        return authorization
    return await foreign.authorize(uid, station_id, starting=True) or authorization
