"""A hub for payment tests: a station, pay-as-you-go drivers with tokens, sessions started
over OCPP 1.6, CDRs issued as the billing domain emits them, and a wait for the payment
consumers to have handled everything in the log."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from evhub.events.log import START, Position
from evhub.events.outbox import emit
from tests.integration.live_server import LiveServer
from tests.integration.ocpp_client import RawStation

PAYMENT_CONSUMERS = ("payments.holds", "payments.captures", "payments.cdrs")
_LAST = text("SELECT txid, id FROM outbox ORDER BY txid DESC, id DESC LIMIT 1")


async def add_driver(server: LiveServer, name: str, tag: str) -> int:
    r = await server.http.post("/api/v1/drivers", json={"name": name})
    assert r.status_code == 201, r.text
    driver_id = int(r.json()["id"])
    await server.add_token(tag, driver_id=driver_id)
    return driver_id


async def start_session(st: RawStation, tag: str, connector: int) -> int:
    started = await st.result(
        "StartTransaction",
        {"connectorId": connector, "idTag": tag, "meterStart": 0,
         "timestamp": "2026-12-01T10:00:00Z"},
    )  # fmt: skip
    assert started["idTagInfo"]["status"] == "Accepted"
    return int(started["transactionId"])


async def issue_cdr(
    server: LiveServer, cdr_id: str, tx: int, driver_id: int, incl: str, excl: str,
    credit_of: str | None = None,
) -> None:  # fmt: skip
    """`cdr.issued` with exactly the payload the billing domain emits."""
    async with server.app.state.services.uow() as session:
        emit(
            session, "cdr.issued", datetime.now(UTC), cdr_id=cdr_id, transaction_id=tx,
            driver_id=driver_id, total_incl_vat=incl, total_excl_vat=excl, currency="EUR",
            credit_of=credit_of,
        )  # fmt: skip


async def handled(server: LiveServer, consumers: tuple[str, ...] = PAYMENT_CONSUMERS) -> None:
    """Once the consumers' checkpoints have reached the log's head (they moved after their
    handlers returned), woken by the relay's doorbell, within 30 s."""
    services = server.app.state.services
    relay = services.relay
    # The last event written, committed or not behind the cluster's horizon (`head()` stops
    # below transactions still running anywhere on the PostgreSQL server).
    async with services.read_sessions() as session:
        row = (await session.execute(_LAST)).first()
    head = Position(row[0], row[1]) if row else START
    async with asyncio.timeout(30):
        while True:
            seen = relay.advanced.rings
            if all(relay.positions.get(name, (0, 0)) >= head for name in consumers):
                return
            await relay.advanced.wait(seen, 1.0)


async def payments_of(server: LiveServer, driver_id: int) -> list[dict[str, Any]]:
    r = await server.http.get("/api/v1/payments", params={"driver_id": driver_id})
    assert r.status_code == 200, r.text
    return list(r.json())


def money(value: Any) -> Decimal:
    return Decimal(str(value))
