"""Pushes owed to partners: in order per object, retried with back-off, one object's failure
holding back no other."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select

from evhub.clock import FrozenClock
from evhub.db import create_engine, session_factory
from evhub.roaming.client import OcpiClient, Party
from evhub.roaming.context import Identity, RoamingContext
from evhub.roaming.deliveries import DeliveryLoop, backoff, enqueue
from evhub.roaming.models import Delivery, Partner, PartnerRole
from evhub.uow import UnitOfWork

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
URL = "https://emsp.example/ocpi/emsp/2.2.1/sessions/FR/EVA"


class Emsp:
    """An eMSP that refuses the first `failures` requests to each URL."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.tries: dict[str, int] = {}
        self.accepted: list[tuple[str, str, dict[str, object]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        key = f"{request.method} {request.url}"
        self.tries[key] = self.tries.get(key, 0) + 1
        if self.tries[key] <= self.failures:
            return httpx.Response(503, json={"status_code": 3000, "timestamp": "x"})
        self.accepted.append((request.method, str(request.url), json.loads(request.content)))
        return httpx.Response(200, json={"status_code": 1000, "timestamp": "x"})


@pytest.fixture
async def ctx(database_url: str) -> AsyncIterator[RoamingContext]:
    engine = create_engine(database_url)
    uow = UnitOfWork(session_factory(engine))
    identity = Identity("FR", "EVA", "Hub A")
    context = RoamingContext(uow, FrozenClock(AT), OcpiClient(Party("FR", "EVA"), 5.0), identity,
                             None)  # fmt: skip
    async with uow() as session:
        partner = Partner(name="B", status="registered", token_out="tok", created_at=AT,
                          updated_at=AT)  # fmt: skip
        partner.roles = [PartnerRole(role="EMSP", country_code="FR", party_id="EVB")]
        session.add(partner)
    yield context
    await context.client.aclose()
    await engine.dispose()


def _answer(ctx: RoamingContext, emsp: Emsp) -> None:
    ctx.client = OcpiClient(Party("FR", "EVA"), 5.0, transport=httpx.MockTransport(emsp))


async def _owe(ctx: RoamingContext, key: str, method: str, n: int) -> None:
    async with ctx.uow() as session:
        partner_id = (await session.scalars(select(Partner.id))).one()
        enqueue(session, partner_id, key, method, f"{URL}/{key}", {"n": n}, ctx.clock.now())


async def test_a_session_patch_waits_for_its_put_and_other_sessions_do_not_wait(
    ctx: RoamingContext,
) -> None:
    emsp = Emsp(failures=0)
    _answer(ctx, emsp)
    await _owe(ctx, "sessions/1", "PUT", 1)
    await _owe(ctx, "sessions/1", "PATCH", 2)
    await _owe(ctx, "sessions/2", "PUT", 3)
    loop = DeliveryLoop(ctx)
    assert await loop.deliver_due() == 2  # the heads of both Sessions
    assert await loop.deliver_due() == 1  # then the PATCH
    assert await loop.deliver_due() == 0
    assert [(m, body["n"]) for m, _, body in emsp.accepted] == [("PUT", 1), ("PUT", 3),
                                                                 ("PATCH", 2)]  # fmt: skip


async def test_a_refused_push_is_retried_after_its_back_off_in_order(ctx: RoamingContext) -> None:
    emsp = Emsp(failures=2)
    _answer(ctx, emsp)
    clock = ctx.clock
    assert isinstance(clock, FrozenClock)
    await _owe(ctx, "sessions/1", "PUT", 1)
    await _owe(ctx, "sessions/1", "PATCH", 2)
    loop = DeliveryLoop(ctx)
    assert await loop.deliver_due() == 0  # refused once
    assert await loop.deliver_due() == 0  # not due again before its back-off
    assert sum(emsp.tries.values()) == 1
    clock.advance(backoff(1).total_seconds())
    assert await loop.deliver_due() == 0  # refused twice: the PATCH still waits behind it
    clock.advance(backoff(2).total_seconds())
    assert await loop.deliver_due() == 1
    async with ctx.uow() as session:
        put = (await session.scalars(select(Delivery).order_by(Delivery.id))).first()
    assert put is not None and put.attempts == 3 and put.delivered_at is not None
    assert put.last_error is None
    assert [body["n"] for _, _, body in emsp.accepted] == [1]
    assert list(emsp.tries) == [f"PUT {URL}/sessions/1"]  # the PATCH never went before it


def test_the_back_off_doubles_up_to_its_ceiling() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert backoff(30).total_seconds() == 300
