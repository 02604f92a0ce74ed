"""A card capture across a SIGKILL: the server dies after the acquirer took the money and
before the answer came back (the intent committed, the result not). Restarted, it sends the
capture again with the same key, the acquirer answers from what it stored, and the payment is
captured once: nothing lost, nothing doubled, the ledger booked once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from evhub.db import create_engine, session_factory
from evhub.events.outbox import emit
from evhub.uow import UnitOfWork
from tests.integration.acquirer_server import run_acquirer
from tests.integration.live_server import PASSWORD
from tests.integration.ocpp_client import connect
from tests.integration.server_process import ServerProcess, server_process


async def _setup(server: ServerProcess) -> int:
    r = await server.http.post(
        "/api/v1/sites", json={"name": "Hub", "timezone": "Europe/Paris", "grid_limit_kw": 50}
    )
    assert r.status_code == 201, r.text
    body = {"id": "CP-K", "site_id": r.json()["id"], "password": PASSWORD,
            "evses": [{"evse_id": 1}]}  # fmt: skip
    assert (await server.http.post("/api/v1/stations", json=body)).status_code == 201
    r = await server.http.post("/api/v1/drivers", json={"name": "Eve"})
    driver_id = int(r.json()["id"])
    token = {"uid": "TAG-EVE", "driver_id": driver_id}
    assert (await server.http.post("/api/v1/tokens", json=token)).status_code == 201
    return driver_id


async def _payment(server: ServerProcess, driver_id: int, status: str) -> dict[str, Any]:
    """The driver's payment once it has `status` (the server is another process)."""
    async with asyncio.timeout(60):
        while True:
            r = await server.http.get("/api/v1/payments", params={"driver_id": driver_id})
            if r.status_code == 200 and r.json() and r.json()[0]["status"] == status:
                return dict(r.json()[0])
            await asyncio.sleep(0.1)  # another process's database: nothing to await


async def _emit_cdr(url: str, tx: int, driver_id: int) -> None:
    engine = create_engine(url)
    try:
        async with UnitOfWork(session_factory(engine))() as session:
            emit(
                session, "cdr.issued", datetime.now(UTC), cdr_id="CDR-K", transaction_id=tx,
                driver_id=driver_id, total_incl_vat="17.50", total_excl_vat="14.58",
                currency="EUR", credit_of=None,
            )  # fmt: skip
    finally:
        await engine.dispose()


async def _booked(url: str) -> list[tuple[str, int]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT kind, count(*) FROM journal_entries GROUP BY kind ORDER BY kind")
            )
            return [(kind, int(n)) for kind, n in rows]
    finally:
        await engine.dispose()


async def test_capture_interrupted_by_sigkill_is_completed_once_after_restart(
    database_url: str,
) -> None:
    async with run_acquirer() as (acquirer, acquirer_url):
        async with server_process(
            database_url, payment_provider="acquirer", acquirer_url=acquirer_url,
            acquirer_timeout_s=30, event_poll_s=0.2, payments_resume_interval_s=0.5,
        ) as server:  # fmt: skip
            driver_id = await _setup(server)
            async with connect(server.ws_base, "CP-K", "ocpp1.6") as st:
                started = await st.result(
                    "StartTransaction",
                    {"connectorId": 1, "idTag": "TAG-EVE", "meterStart": 0,
                     "timestamp": "2026-12-01T10:00:00Z"},
                )  # fmt: skip
            tx = int(started["transactionId"])
            await _payment(server, driver_id, "authorised")
            acquirer.acted.clear()
            acquirer.lose_answers = 1
            await _emit_cdr(database_url, tx, driver_id)
            async with asyncio.timeout(60):
                await acquirer.acted.wait()  # the money is taken; the answer is held back
            server.kill()
            assert acquirer.moved("capture") == [Decimal("17.50")]
            await server.start()
            paid = await _payment(server, driver_id, "captured")
    assert Decimal(paid["captured_amount"]) == Decimal("17.50")
    assert acquirer.moved("capture") == [Decimal("17.50")]  # once, across the crash
    assert acquirer.moved("hold") == [Decimal("50.00")]
    assert acquirer.requests.count("capture:cdr:CDR-K") >= 2
    assert await _booked(database_url) == [("card_capture", 1), ("invoice", 1)]
