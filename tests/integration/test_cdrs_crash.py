"""Charge detail records across a crash: charges end on a real OCPP 1.6 station while the
server is killed with SIGKILL and restarted; every ended transaction gets exactly one CDR
priced by its site's tariff (none lost to the crash, none doubled by the redelivery), and the
month's invoice bills each once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select, text

from evhub.billing import invoices
from evhub.billing.lines import sources
from evhub.billing.models import CdrRecord, InvoiceLineRecord, InvoiceRecord
from evhub.db import create_engine, session_factory
from evhub.uow import UnitOfWork
from tests.integration.live_server import PASSWORD
from tests.integration.ocpp_client import RawStation, connect
from tests.integration.server_process import ServerProcess, server_process
from tests.unit.billing.test_invoices import ISSUER, SETTINGS

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
BEFORE, AFTER = 12, 6
TARIFF = {
    "currency": "EUR",
    "elements": [
        {"price_components": [{"type": "ENERGY", "price": 0.25, "vat": 20, "step_size": 1}]}
    ],
}


def _stamp(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


async def _register(server: ServerProcess) -> None:
    http = server.http
    tariff = (await http.post("/api/v1/tariffs", json=TARIFF)).json()
    site = await http.post(
        "/api/v1/sites", json={"name": "Hub", "timezone": "Europe/Paris", "grid_limit_kw": 50}
    )
    site_id = site.json()["id"]
    assert (
        await http.patch(f"/api/v1/sites/{site_id}", json={"tariff_id": tariff["id"]})
    ).is_success
    body = {"id": "CP-B", "site_id": site_id, "password": PASSWORD, "evses": [{"evse_id": 1}]}
    assert (await http.post("/api/v1/stations", json=body)).status_code == 201
    driver = (await http.post("/api/v1/drivers", json={"name": "Ada"})).json()
    token = {"uid": "TAG-B", "driver_id": driver["id"]}
    assert (await http.post("/api/v1/tokens", json=token)).status_code == 201


async def _charge(st: RawStation, n: int) -> None:
    """Charge n: 5 kWh in half an hour, acknowledged (so committed) at its stop."""
    start = T0 + timedelta(hours=n)
    started = await st.result(
        "StartTransaction",
        {"connectorId": 1, "idTag": "TAG-B", "meterStart": n * 10_000, "timestamp": _stamp(start)},
    )
    await st.result(
        "StopTransaction",
        {
            "transactionId": started["transactionId"], "meterStop": n * 10_000 + 5000,
            "idTag": "TAG-B", "timestamp": _stamp(start + timedelta(minutes=30)),
            "reason": "EVDisconnected",
        },
    )  # fmt: skip


async def _charges(server: ServerProcess, first: int, count: int) -> None:
    async with connect(server.ws_base, "CP-B", "ocpp1.6") as st:
        for n in range(first, first + count):
            await _charge(st, n)


async def _cdrs_when_caught_up(uow: UnitOfWork, expected: int) -> list[CdrRecord]:
    async with asyncio.timeout(60):
        while True:
            async with uow() as s:
                ended = await s.scalar(
                    text("SELECT count(*) FROM transactions WHERE state = 'ended'")
                )
                found = list(await s.scalars(select(CdrRecord).order_by(CdrRecord.id)))
            if ended == expected and len(found) >= expected:
                return found
            await asyncio.sleep(0.1)  # another process's database: nothing to await


async def test_every_ended_charge_gets_one_cdr_across_a_sigkill(database_url: str) -> None:
    engine = create_engine(database_url)
    uow = UnitOfWork(session_factory(engine))
    try:
        async with server_process(database_url, event_poll_s=0.2) as server:
            await _register(server)
            await _charges(server, 0, BEFORE)
            server.kill()  # at once: the CDR consumer is still working through the ends
            async with uow() as s:
                at_kill = await s.scalar(select(func.count()).select_from(CdrRecord))
            await server.start()
            await _charges(server, BEFORE, AFTER)
            found = await _cdrs_when_caught_up(uow, BEFORE + AFTER)
            listed = await server.http.get("/api/v1/cdrs", params={"limit": 5})
        async with uow() as s:
            events = await s.scalar(text("SELECT count(*) FROM outbox WHERE kind = 'cdr.issued'"))
        assert at_kill is not None and at_kill <= BEFORE
        assert len(found) == events == BEFORE + AFTER
        assert len({c.transaction_pk for c in found}) == len(found)
        assert {(c.total_excl_vat, c.total_incl_vat, c.total_energy_kwh) for c in found} == {
            (Decimal("1.25"), Decimal("1.5"), Decimal(5))
        }
        assert listed.headers["X-Total-Count"] == str(BEFORE + AFTER)
        assert len(listed.json()) == 5 and 'rel="next"' in listed.headers["Link"]

        month = invoices.Month(2026, 11)
        now = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
        assert len(await invoices.run_month(uow, now, ISSUER, month, sources(SETTINGS))) == 1
        assert await invoices.run_month(uow, now, ISSUER, month, sources(SETTINGS)) == []
        async with uow() as s:
            invoice = (await s.scalars(select(InvoiceRecord))).one()
            refs = list(await s.scalars(select(InvoiceLineRecord.source_ref)))
        assert sorted(refs) == sorted(f"cdr:{c.id}" for c in found)
        assert invoice.total_incl_vat == Decimal("1.50") * (BEFORE + AFTER)
    finally:
        await engine.dispose()
