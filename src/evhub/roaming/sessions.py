"""evhub as CPO: the charges of partners' drivers as live OCPI Sessions (§9), pushed to the
token's eMSP.

A transaction that a roaming decision let start (`badges`) becomes a Session when
`transaction.started` reaches the log; its end (`transaction.ended`) completes it; in between
`SessionRefresher` sends the energy and the cost so far as they grow. Each push goes through
`deliveries`, in order per Session, until the eMSP acknowledges it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.assets import service as assets
from evhub.billing import service as billing
from evhub.billing.pricing import CdrPeriods, Costs, price
from evhub.billing.tariff import CdrDimension, CdrDimensionType, ChargingPeriod
from evhub.charging import service as charging
from evhub.charging.models import Transaction
from evhub.events import Event
from evhub.events.relay import TransactionalConsumer
from evhub.roaming import deliveries, partners
from evhub.roaming.badges import taken_by
from evhub.roaming.context import Identity, RoamingContext
from evhub.roaming.evse_ids import evse_uid
from evhub.roaming.models import Authorization as Decision
from evhub.roaming.models import RoamingToken, Session
from evhub.roaming.wire import InterfaceRole, format_timestamp

log = logging.getLogger("evhub.roaming")
DEFAULT_CURRENCY = "EUR"  # a Session needs one even where no tariff prices the charge
STARTED, ENDED = "transaction.started", "transaction.ended"
DECIDING = timedelta(minutes=2)  # longer than a real-time request may take
_COPIED = ("partner_id", "uid", "station_id", "allowed", "how", "realtime",
           "authorization_reference", "cdr_token", "decided_at")  # fmt: skip


def _amount(value: Decimal) -> float:
    return float(value)  # OCPI `number` on the wire; amounts stay Decimal until here


def cost_object(costs: Costs) -> dict[str, float]:
    cost = costs.total_cost
    return {"excl_vat": _amount(cost.excl_vat), "incl_vat": _amount(cost.incl_vat)}


async def cost_so_far(
    session: AsyncSession, tx: Transaction, site_id: int, tz: str, until: datetime
) -> tuple[str, Costs | None]:
    """The tariff's currency and the charge priced as one period up to `until`."""
    evse = billing.EvseRef(tx.station_id, tx.evse_id)
    tariff = await billing.tariff_for(session, site_id, evse, at=tx.started_at)
    if tariff is None:
        return DEFAULT_CURRENCY, None
    kwh = Decimal(tx.energy_wh) / 1000
    hours = Decimal(max(0.0, (until - tx.started_at).total_seconds())) / 3600
    period = ChargingPeriod(start_date_time=tx.started_at, dimensions=[
        CdrDimension(type=CdrDimensionType.ENERGY, volume=kwh),
        CdrDimension(type=CdrDimensionType.TIME, volume=hours),
    ])  # fmt: skip
    end = max(until, tx.started_at)
    return tariff.currency, price(tariff, CdrPeriods([period], end, tx.started_at), tz)


async def session_object(
    session: AsyncSession, identity: Identity, row: Session, now: datetime
) -> dict[str, Any]:
    """OCPI 2.2.1 §9.3.1 Session of one roaming transaction, as it stands now."""
    tx = await charging.get_transaction(session, row.transaction_id)
    decision = await session.get(Decision, row.authorization_id)
    assert decision is not None
    station = await assets.get_station(session, tx.station_id)
    site = await assets.get_site(session, station.site_id)
    until = tx.stopped_at or now
    currency, costs = await cost_so_far(session, tx, site.id, site.timezone, until)
    obj: dict[str, Any] = {
        "country_code": identity.country_code,
        "party_id": identity.party_id,
        "id": str(tx.id),
        "start_date_time": format_timestamp(tx.started_at),
        "kwh": tx.energy_wh / 1000,
        "cdr_token": decision.cdr_token,
        "auth_method": decision.how,
        "location_id": str(site.id),
        "evse_uid": evse_uid(tx.station_id, tx.evse_id),
        "connector_id": str(tx.connector_id),
        "currency": currency,
        "status": row.status,
        "last_updated": format_timestamp(now),
    }
    if decision.authorization_reference:
        obj["authorization_reference"] = decision.authorization_reference
    if tx.stopped_at is not None:
        obj["end_date_time"] = format_timestamp(tx.stopped_at)
    if costs is not None:
        obj["total_cost"] = cost_object(costs)
    return obj


async def _receiver(session: AsyncSession, identity: Identity, row: Session) -> str | None:
    partner = await partners.get(session, row.partner_id)
    url = partners.endpoint(partner, "sessions", InterfaceRole.RECEIVER)
    if url is None:
        return None
    return f"{url.rstrip('/')}/{identity.country_code}/{identity.party_id}/{row.transaction_id}"


async def queue_push(
    session: AsyncSession, identity: Identity, row: Session, now: datetime, whole: bool
) -> None:
    """Owe the eMSP the Session: all of it (PUT, §9.2.2.2), or what changes while it charges
    (PATCH, §9.2.2.3)."""
    url = await _receiver(session, identity, row)
    if url is None:
        log.info("event=roaming_session_unpushed partner_id=%s reason=no_receiver", row.partner_id)
        return
    obj = await session_object(session, identity, row, now)
    tx_energy = round(obj["kwh"] * 1000)
    if whole:
        body = obj
    else:
        body = {k: obj[k] for k in ("kwh", "total_cost", "status", "last_updated") if k in obj}
    deliveries.enqueue(session, row.partner_id, f"sessions/{row.transaction_id}",
                       "PUT" if whole else "PATCH", url, body, now)  # fmt: skip
    row.pushed_wh, row.updated_at = tx_energy, now


async def open_session(
    session: AsyncSession, identity: Identity, transaction_id: int, now: datetime
) -> Session | None:
    """The Session of a transaction started on a partner's token; None for any other."""
    tx = await charging.get_transaction(session, transaction_id)
    if tx.id_token is None or tx.token_id is not None:
        return None
    existing = await session.scalar(select(Session).where(Session.transaction_id == tx.id))
    if existing is not None:
        return existing
    decision = await taken_by(session, str(tx.id_token), tx.station_id, tx.started_at,
                              tx.created_at)  # fmt: skip
    if decision is None:
        if await _deciding(session, tx, now):
            raise DecisionPending(f"transaction {tx.id}: its roaming decision is not stored yet")
        return None
    if not decision.allowed:
        return None
    decision = await _bind(session, decision, tx)
    row = Session(transaction_id=tx.id, partner_id=decision.partner_id,
                  authorization_id=decision.id, status="ACTIVE", pushed_wh=0,
                  created_at=now, updated_at=now)  # fmt: skip
    session.add(row)
    await session.flush()
    await queue_push(session, identity, row, now, whole=True)
    return row


class DecisionPending(Exception):
    """A start without a prior Authorize is committed before its token is decided (the eMSP is
    asked after the commit): the relay hands the event again, with back-off, until it is."""


async def _deciding(session: AsyncSession, tx: Transaction, now: datetime) -> bool:
    """A partner's token whose decision may still come (bounded by `DECIDING`)."""
    if now - tx.started_at > DECIDING and now - tx.created_at > DECIDING:
        return False
    found = await session.scalar(
        select(RoamingToken.id).where(RoamingToken.uid == tx.id_token).limit(1)
    )
    return found is not None


async def _bind(session: AsyncSession, decision: Decision, tx: Transaction) -> Decision:
    """The decision bound to the transaction it let start: the one its start took
    (`badges.taken_by`), or a copy of the one an earlier transaction of the token there took."""
    if decision.transaction_id is not None:
        decision = Decision(**{c: getattr(decision, c) for c in _COPIED})
        session.add(decision)
    decision.transaction_id = tx.id
    await session.flush()
    return decision


async def close_session(
    session: AsyncSession, identity: Identity, transaction_id: int, now: datetime
) -> None:
    row = await session.scalar(select(Session).where(Session.transaction_id == transaction_id))
    if row is None or row.status == "COMPLETED":
        return
    row.status = "COMPLETED"
    await queue_push(session, identity, row, now, whole=True)


class SessionTracker:
    """Opens and completes Sessions from the event log, in the consumer's own transaction (the
    pushes it queues are written exactly once)."""

    def __init__(self, ctx: RoamingContext) -> None:
        self.ctx = ctx

    def consumer(self) -> TransactionalConsumer:
        return TransactionalConsumer("roaming.sessions", self.handle, frozenset({STARTED, ENDED}))

    async def handle(self, session: AsyncSession, event: Event) -> None:
        transaction_id = int(event.data["transaction_id"])
        now = self.ctx.clock.now()
        if event.kind == STARTED:
            await open_session(session, self.ctx.identity, transaction_id, now)
        else:
            await close_session(session, self.ctx.identity, transaction_id, now)


class SessionRefresher:
    """Sends the energy and cost of each active Session once they moved (meter values are
    stored in batches, without an event per value: this loop reads what they added)."""

    def __init__(self, ctx: RoamingContext, interval_s: float = 60.0) -> None:
        self.ctx = ctx
        self.interval_s = interval_s

    async def run(self) -> None:
        while True:
            await self.refresh()
            await self.ctx.clock.sleep(self.interval_s)

    async def refresh(self) -> int:
        """Queue a PATCH for each active Session whose energy changed; returns how many."""
        now = self.ctx.clock.now()
        async with self.ctx.uow() as session:
            rows = list(await session.scalars(select(Session).where(Session.status == "ACTIVE")))
            queued = 0
            for row in rows:
                tx = await charging.get_transaction(session, row.transaction_id)
                if tx.energy_wh != row.pushed_wh and tx.stopped_at is None:
                    await queue_push(session, self.ctx.identity, row, now, whole=False)
                    queued += 1
        return queued
