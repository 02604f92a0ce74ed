"""The event log across a crash: the server is killed with SIGKILL while its consumers are
behind, restarted, and every consumer resumes from its checkpoint. The fault monitor writes
its effects (tickets) in the transaction that moves its checkpoint, so each fault it was sent
opens exactly one ticket: none lost to the crash, none doubled by the redelivery."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from evhub.db import create_engine
from tests.integration.live_server import PASSWORD
from tests.integration.ocpp_client import connect
from tests.integration.server_process import ServerProcess, server_process

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
FAULTS_BEFORE, FAULTS_AFTER = 20, 10


async def _register(server: ServerProcess) -> None:
    r = await server.http.post(
        "/api/v1/sites", json={"name": "Hub", "timezone": "Europe/Paris", "grid_limit_kw": 50}
    )
    assert r.status_code == 201, r.text
    body = {
        "id": "CP-K",
        "site_id": r.json()["id"],
        "password": PASSWORD,
        "evses": [{"evse_id": 1}],
    }
    assert (await server.http.post("/api/v1/stations", json=body)).status_code == 201


async def _faults(server: ServerProcess, first: int, count: int) -> None:
    """`count` faults, each cleared a minute later, acknowledged (so committed) one by one."""
    async with connect(server.ws_base, "CP-K", "ocpp1.6") as st:
        for i in range(first, first + count):
            at = T0 + timedelta(minutes=2 * i)
            for status, error, when in (
                ("Faulted", "GroundFailure", at),
                ("Available", "NoError", at + timedelta(minutes=1)),
            ):
                stamp = when.isoformat().replace("+00:00", "Z")
                payload = {"connectorId": 1, "errorCode": error, "status": status}
                await st.result("StatusNotification", payload | {"timestamp": stamp})


async def _state(url: str) -> tuple[int, dict[str, int], int, int]:
    """The id of the log's last event, each consumer's checkpoint, tickets opened and ticket.opened
    events in the log."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            # The log's order is (txid, id): on PostgreSQL the last event read need not have
            # the greatest id (a transaction that began first may commit last).
            last = "SELECT id FROM outbox ORDER BY txid DESC, id DESC LIMIT 1"
            head = (await conn.execute(text(last))).scalar() or 0
            rows = await conn.execute(text("SELECT name, last_id FROM consumer_checkpoints"))
            checkpoints = {name: int(last) for name, last in rows}
            tickets = (
                await conn.execute(text("SELECT count(*) FROM maintenance_tickets"))
            ).scalar()
            opened = (
                await conn.execute(text("SELECT count(*) FROM outbox WHERE kind = 'ticket.opened'"))
            ).scalar()
    finally:
        await engine.dispose()
    return int(head), checkpoints, int(tickets or 0), int(opened or 0)


async def _caught_up(url: str, expected_tickets: int) -> tuple[dict[str, int], int, int]:
    """Once the monitor has opened the expected tickets and every consumer is at the head."""
    async with asyncio.timeout(30):
        while True:
            head, checkpoints, tickets, opened = await _state(url)
            at_head = checkpoints and all(last == head for last in checkpoints.values())
            if tickets >= expected_tickets and at_head:
                return checkpoints, tickets, opened
            await asyncio.sleep(0.1)  # another process's database: nothing to await


async def test_consumers_resume_after_sigkill_with_nothing_lost_or_doubled(
    database_url: str,
) -> None:
    async with server_process(database_url, event_poll_s=0.2) as server:
        await _register(server)
        await _faults(server, 0, FAULTS_BEFORE)
        server.kill()  # at once: the monitor is still working through the faults
        _, before, tickets_at_kill, _ = await _state(database_url)
        await server.start()
        await _faults(server, FAULTS_BEFORE, FAULTS_AFTER)
        checkpoints, tickets, opened = await _caught_up(database_url, FAULTS_BEFORE + FAULTS_AFTER)
    assert {"maintenance.monitor", "planning.triggers"} <= set(checkpoints)
    assert tickets == opened == FAULTS_BEFORE + FAULTS_AFTER
    assert tickets_at_kill <= FAULTS_BEFORE
    r = before  # the checkpoints the crash left behind were resumed from, not reset
    assert all(checkpoints[name] >= last for name, last in r.items())
