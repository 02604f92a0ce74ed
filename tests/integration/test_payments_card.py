"""Card payment of pay-as-you-go sessions against a real (test) acquirer over HTTP: a hold at
the start, the CDR's amount captured and the rest released, a decline, a capture whose answer
is lost and retried with its key, refunds by key, the month's reconciliation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.integration.acquirer_server import SandboxAcquirer, run_acquirer
from tests.integration.live_server import LiveServer, run_server
from tests.integration.ocpp_client import connect
from tests.integration.payments_hub import (
    add_driver,
    handled,
    issue_cdr,
    money,
    payments_of,
    start_session,
)

HOLD = Decimal("50.00")


def _month() -> str:
    """Payments belong to the month they were made in (the server's clock)."""
    return datetime.now(UTC).strftime("%Y-%m")


@pytest.fixture
async def hub(database_url: str) -> AsyncIterator[tuple[LiveServer, SandboxAcquirer]]:
    async with run_acquirer() as (acquirer, url):
        async with run_server(
            database_url, payment_provider="acquirer", acquirer_url=url,
            acquirer_timeout_s=1.0, acquirer_attempts=4, event_poll_s=0.2,
        ) as server:  # fmt: skip
            site = await server.add_site()
            await server.add_station("CP-PAY", site, evses=[{"evse_id": 1}, {"evse_id": 2}])
            yield server, acquirer


async def test_payg_session_is_held_at_start_and_the_cdr_amount_captured(
    hub: tuple[LiveServer, SandboxAcquirer],
) -> None:
    server, acquirer = hub
    ada = await add_driver(server, "Ada", "TAG-ADA")
    async with connect(server.ws_base, "CP-PAY", "ocpp1.6") as st:
        tx = await start_session(st, "TAG-ADA", 1)
        await handled(server)
        [held] = await payments_of(server, ada)
        assert (held["status"], held["transaction_id"]) == ("authorised", tx)
        assert money(held["authorised_amount"]) == HOLD
        assert acquirer.moved("hold") == [HOLD]

        await issue_cdr(server, "CDR-A", tx, ada, "12.34", "10.28")
        await handled(server)
    [paid] = await payments_of(server, ada)
    assert paid["status"] == "captured"
    assert money(paid["captured_amount"]) == Decimal("12.34")
    assert acquirer.moved("capture") == [Decimal("12.34")]
    assert acquirer.funds[str(ada)] == Decimal("1000.00") - Decimal("12.34")  # rest released
    r = await server.http.get(f"/api/v1/payments/reconciliation/{_month()}")
    assert r.status_code == 200, r.text
    [line] = [x for x in r.json()["lines"] if x["payment_id"] == paid["id"]]
    assert money(line["invoiced"]) == money(line["captured"]) == Decimal("12.34")
    assert line["differences"] == ["settled 0.00 of 12.34 captured"]
    assert all(b["driver_id"] != ada for b in r.json()["open_balances"])  # nothing owed

    ops = (await server.http.get(f"/api/v1/payments/{paid['id']}/operations")).json()
    [capture] = [op for op in ops if op["kind"] == "capture"]
    settled = {"provider_ref": capture["provider_ref"], "amount": "12.34", "currency": "EUR",
               "settled_on": "2026-12-03"}  # fmt: skip
    for recorded in (1, 0):  # the same report line again is skipped
        r = await server.http.post("/api/v1/payments/settlements", json={"lines": [settled]})
        assert (r.status_code, r.json()) == (200, {"recorded": recorded}), r.text
    r = await server.http.get(f"/api/v1/payments/reconciliation/{_month()}")
    [line] = [x for x in r.json()["lines"] if x["payment_id"] == paid["id"]]
    assert (money(line["settled"]), line["differences"]) == (Decimal("12.34"), [])


async def test_declined_hold_leaves_the_cdr_owed(hub: tuple[LiveServer, SandboxAcquirer]) -> None:
    server, acquirer = hub
    bo = await add_driver(server, "Bo", "TAG-BO")
    acquirer.funds[str(bo)] = Decimal("10.00")
    async with connect(server.ws_base, "CP-PAY", "ocpp1.6") as st:
        tx = await start_session(st, "TAG-BO", 1)
        await handled(server)
        await issue_cdr(server, "CDR-B", tx, bo, "8.00", "6.67")
        await handled(server)
    [declined] = await payments_of(server, bo)
    assert (declined["status"], declined["failure_reason"]) == ("declined", "insufficient funds")
    assert acquirer.moved("hold") == acquirer.moved("capture") == []
    r = await server.http.get(f"/api/v1/payments/reconciliation/{_month()}")
    owed = [b for b in r.json()["open_balances"] if b["driver_id"] == bo]
    assert [money(b["balance"]) for b in owed] == [Decimal("8.00")]


async def test_capture_whose_answer_is_lost_is_retried_with_its_key_and_moves_money_once(
    hub: tuple[LiveServer, SandboxAcquirer],
) -> None:
    server, acquirer = hub
    cy = await add_driver(server, "Cy", "TAG-CY")
    async with connect(server.ws_base, "CP-PAY", "ocpp1.6") as st:
        tx = await start_session(st, "TAG-CY", 2)
        await handled(server)
        acquirer.lose_answers = 1  # the capture is made, its answer never arrives
        await issue_cdr(server, "CDR-C", tx, cy, "20.00", "16.67")
        await handled(server)
    [paid] = await payments_of(server, cy)
    assert (paid["status"], money(paid["captured_amount"])) == ("captured", Decimal("20.00"))
    assert acquirer.moved("capture") == [Decimal("20.00")]
    assert acquirer.requests.count("capture:cdr:CDR-C") >= 2  # the retry, with the same key


async def test_refund_by_key_refunds_once_and_a_credit_cdr_refunds_its_cdr(
    hub: tuple[LiveServer, SandboxAcquirer],
) -> None:
    server, acquirer = hub
    di = await add_driver(server, "Di", "TAG-DI")
    async with connect(server.ws_base, "CP-PAY", "ocpp1.6") as st:
        tx = await start_session(st, "TAG-DI", 1)
        await handled(server)
        await issue_cdr(server, "CDR-D", tx, di, "30.00", "25.00")
        await handled(server)
    [paid] = await payments_of(server, di)
    operator = await server.client("operator")
    headers = {"Idempotency-Key": "refund-di-0001"}
    url = f"/api/v1/payments/{paid['id']}/refunds"
    first = await operator.post(url, json={"amount": "5.00"}, headers=headers)
    again = await operator.post(url, json={"amount": "5.00"}, headers=headers)
    assert first.status_code == again.status_code == 201, first.text
    assert first.json() == again.json() and first.json()["status"] == "succeeded"
    assert acquirer.moved("refund") == [Decimal("5.00")]
    too_much = await operator.post(url, json={"amount": "26.00"})
    assert too_much.status_code == 422, too_much.text
    viewer = await server.client("viewer")
    assert (await viewer.post(url, json={"amount": "1.00"})).status_code == 403

    await issue_cdr(server, "CDR-D-CR", tx, di, "-30.00", "-25.00", credit_of="CDR-D")
    await handled(server)
    [refunded] = await payments_of(server, di)
    assert refunded["status"] == "refunded"
    assert acquirer.moved("refund") == [Decimal("5.00"), Decimal("25.00")]  # what was left
