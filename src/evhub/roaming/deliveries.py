"""Pushes evhub owes partners (Sessions, CDRs, CommandResults), kept until acknowledged.

A push is written in the transaction that decides it (`enqueue`), so none is lost to a crash or
a partner being down. The loop sends, per object, the oldest push still owed, and only once it
is acknowledged the next one: a Session's PUT and its PATCHes arrive in order (OCPI 2.2.1 §9.2).
A refused or failed push is tried again after a back-off that doubles up to `BACKOFF_MAX_S`;
a partner that is down holds back only its own objects.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.events import Event, emit
from evhub.events.relay import Consumer
from evhub.roaming import partners
from evhub.roaming.context import RoamingContext
from evhub.roaming.models import Delivery
from evhub.roaming.wire import PartnerError, Role

log = logging.getLogger("evhub.roaming")
QUEUED = "roaming.push_queued"
DELIVERED = "roaming.push_delivered"
BACKOFF_MAX_S = 300.0
BATCH = 500


def enqueue(
    session: AsyncSession,
    partner_id: int,
    object_key: str,
    method: str,
    url: str,
    body: dict[str, Any],
    now: datetime,
) -> None:
    """Owe `partner_id` this push (sent after the transaction commits)."""
    session.add(Delivery(partner_id=partner_id, object_key=object_key, method=method, url=url,
                         body=body, attempts=0, next_attempt_at=now, created_at=now))  # fmt: skip
    emit(session, QUEUED, now, partner_id=partner_id, object_key=object_key, method=method)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_MAX_S, 2.0 ** max(0, attempts - 1)))


async def due_heads(session: AsyncSession, now: datetime) -> list[Delivery]:
    """The oldest push owed per object, when its next attempt is due."""
    rows = await session.scalars(
        select(Delivery).where(Delivery.delivered_at.is_(None)).order_by(Delivery.id).limit(BATCH)
    )
    heads: dict[tuple[int, str], Delivery] = {}
    for row in rows:
        heads.setdefault((row.partner_id, row.object_key), row)
    return [d for d in heads.values() if d.next_attempt_at <= now]


class DeliveryLoop:
    """Sends what is owed; wakes when a push is queued (any process) or every `tick_s`."""

    def __init__(self, ctx: RoamingContext, tick_s: float = 2.0) -> None:
        self.ctx = ctx
        self.tick_s = tick_s
        self._queued = asyncio.Event()

    def consumer(self) -> Consumer:
        return Consumer("roaming.delivery_wake", self.on_event, frozenset({QUEUED}), per_node=True)

    async def on_event(self, _: Event) -> None:
        self._queued.set()

    async def run(self) -> None:
        while True:
            self._queued.clear()
            await self.deliver_due()
            try:
                async with asyncio.timeout(self.tick_s):
                    await self._queued.wait()
            except TimeoutError:
                pass

    async def deliver_due(self) -> int:
        """One pass: each due head is sent once; returns how many were acknowledged."""
        async with self.ctx.uow() as session:
            heads = [(d.id, d.partner_id, d.method, d.url, d.body)
                     for d in await due_heads(session, self.ctx.clock.now())]  # fmt: skip
        done = 0
        for delivery_id, partner_id, method, url, body in heads:
            error = await self._send(partner_id, method, url, body)  # outside any transaction
            await self._record(delivery_id, error)
            done += error is None
        return done

    async def _send(self, partner_id: int, method: str, url: str, body: Any) -> str | None:
        async with self.ctx.uow() as session:
            partner = await partners.get(session, partner_id)
            to = partners.party(partner, Role.EMSP) or partners.party(partner, Role.CPO)
            credential = partners.credential(partner) if partner.token_out else None
        if credential is None:
            return "the partner gave evhub no token"
        try:
            reply = await self.ctx.client.call(method, url, credential, to, json=body)
        except (httpx.HTTPError, PartnerError) as exc:
            return repr(exc)[:255]
        if not reply.ok:
            return f"HTTP {reply.http_status}, OCPI {reply.status_code}: {reply.message}"[:255]
        return None

    async def _record(self, delivery_id: int, error: str | None) -> None:
        now = self.ctx.clock.now()
        async with self.ctx.uow() as session:
            row = await session.get(Delivery, delivery_id)
            if row is None:
                return
            row.attempts += 1
            row.last_error = error
            if error is None:
                row.delivered_at = now
                emit(session, DELIVERED, now, partner_id=row.partner_id,
                     object_key=row.object_key, method=row.method)  # fmt: skip
            else:
                row.next_attempt_at = now + backoff(row.attempts)
                log.warning("event=roaming_push_failed url=%s attempts=%s error=%s",
                            row.url, row.attempts, error)  # fmt: skip
