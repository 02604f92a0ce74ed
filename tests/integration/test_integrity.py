"""The charging core's invariants, held by the database and seen from a station's side: one
active transaction per EVSE, retried starts recognised, implausible meter values refused."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from evhub.charging import service as charging
from evhub.charging.models import Transaction
from evhub.charging.service import TransactionStart
from tests.integration.live_server import LiveServer
from tests.integration.ocpp_client import RawStation, connect
from tests.integration.test_event_feed import Block, next_event, subscribed
from tests.integration.test_ocpp201_flows import event, meter

# The index named on PostgreSQL, its columns on SQLite.
ACTIVE_REFUSED = r"uq_transactions_active_evse|transactions\.evse_id(?!,)"
START_REFUSED = r"uq_transactions_start_key|transactions\.started_at"
T0 = "2026-11-23T08:00:00Z"
T1 = "2026-11-23T09:00:00Z"


async def _setup(server: LiveServer) -> None:
    site = await server.add_site()
    await server.add_station("CP-X", site, evses=[{"evse_id": 1}, {"evse_id": 2}])
    await server.add_token("TAG")
    await server.add_token("TAG-2")


async def _transactions(server: LiveServer) -> list[dict[str, Any]]:
    r = await server.http.get("/api/v1/transactions", params={"station_id": "CP-X"})
    assert r.status_code == 200, r.text
    return sorted(r.json(), key=lambda t: t["id"])


def _start16(connector: int, tag: str, meter_wh: int, ts: str) -> dict[str, Any]:
    return {"connectorId": connector, "idTag": tag, "meterStart": meter_wh, "timestamp": ts}


async def _raw(st: RawStation, frame: str, message_id: str) -> list[Any]:
    """Send a frame as text; its reply (past any call the CSMS makes meanwhile)."""
    await st.ws.send(frame)
    reply = await st.reply_to(message_id)
    assert reply[0] == 4, reply
    return reply


async def _until(stream: AsyncIterator[Block], kind: str) -> Block:
    block = await next_event(stream)
    while block.kind != kind:
        block = await next_event(stream)
    return block


async def test_v16_new_start_on_a_connector_ends_the_previous_one(server: LiveServer) -> None:
    await _setup(server)
    async with server.http.stream("GET", "/api/v1/events") as r:
        stream = await subscribed(r)
        async with connect(server.ws_base, "CP-X", "ocpp1.6") as st:
            first = (await st.result("StartTransaction", _start16(1, "TAG", 500, T0)))[
                "transactionId"
            ]
            mv = {"timestamp": "2026-11-23T08:30:00Z", "sampledValue": [{"value": "2500"}]}
            await st.result(
                "MeterValues", {"connectorId": 1, "transactionId": first, "meterValue": [mv]}
            )
            # The station lost the stop; its next start on connector 1 ends the first.
            second = (await st.result("StartTransaction", _start16(1, "TAG-2", 2600, T1)))[
                "transactionId"
            ]
            other = (await st.result("StartTransaction", _start16(2, "TAG", 0, T1)))[
                "transactionId"
            ]
            ended = await _until(stream, "transaction.ended")
    assert ended.data["transaction_id"] == first and ended.data["superseded_by"] == second
    assert ended.data["stop_reason"] == "Superseded" and ended.data["energy_wh"] == 2000
    old, new, beside = await _transactions(server)
    assert (old["id"], new["id"], beside["id"]) == (first, second, other)
    assert (old["state"], old["stop_reason"]) == ("ended", "Superseded")
    assert old["stopped_at"].startswith("2026-11-23T09:00") and old["energy_wh"] == 2000
    assert new["state"] == "active" and beside["state"] == "active"  # connector 2 untouched


async def test_v16_start_on_a_new_socket_of_the_station_ends_the_old_one(
    server: LiveServer,
) -> None:
    await _setup(server)
    async with connect(server.ws_base, "CP-X", "ocpp1.6") as st:
        first = (await st.result("StartTransaction", _start16(1, "TAG", 0, T0)))["transactionId"]
    async with connect(server.ws_base, "CP-X", "ocpp1.6") as st:
        second = (await st.result("StartTransaction", _start16(1, "TAG", 10, T1)))["transactionId"]
        again = (await st.result("StartTransaction", _start16(1, "TAG", 10, T1)))["transactionId"]
    assert again == second != first
    states = [(t["id"], t["state"]) for t in await _transactions(server)]
    assert states == [(first, "ended"), (second, "active")]


async def test_v201_new_transaction_on_an_evse_ends_the_previous_one(server: LiveServer) -> None:
    await _setup(server)
    token = {"idToken": "TAG", "type": "ISO14443"}
    async with connect(server.ws_base, "CP-X", "ocpp2.0.1") as st:
        for tx, ts, connector in (("tx-a", T0, 1), ("tx-b", T1, 2)):
            started = event(
                "Started", 0, ts, tx=tx, idToken=token, evse={"id": 1, "connectorId": connector},
                meterValue=[meter(ts, 1000, 0)],
            )  # fmt: skip
            assert (await st.result("TransactionEvent", started))["idTokenInfo"]["status"] == (
                "Accepted"
            )
        # The station now reports the end of the first one after all: acknowledged, kept.
        late = event("Ended", 1, "2026-11-23T08:40:00Z", tx="tx-a")
        assert await st.result("TransactionEvent", late) == {}
    a, b = await _transactions(server)
    assert (a["ocpp_transaction_id"], a["state"], a["stop_reason"]) == (
        "tx-a",
        "ended",
        "Superseded",
    )
    assert (b["ocpp_transaction_id"], b["state"]) == ("tx-b", "active")


async def test_the_database_refuses_a_second_active_transaction_on_an_evse(
    server: LiveServer,
) -> None:
    """Written past the service, the rows still obey: one active per EVSE, one start per start
    key among those the CSMS numbers (even once the first has ended)."""
    await _setup(server)
    uow = server.app.state.gateway.uow
    at = datetime(2026, 11, 23, 8, tzinfo=UTC)
    async with uow() as s:
        opened = await charging.open_transaction(
            s, at, TransactionStart("CP-X", 1, 1, at, 0, "TAG", "1.6")
        )
    tx_id = opened.transaction.id

    def row(ocpp_id: str, version: str, meter_wh: int) -> Transaction:
        return Transaction(
            station_id="CP-X", ocpp_transaction_id=ocpp_id, evse_id=1, connector_id=1,
            id_token="TAG", state="active", started_at=at, meter_start_wh=meter_wh,
            ocpp_version=version, created_at=at, updated_at=at,
        )  # fmt: skip

    with pytest.raises(IntegrityError, match=ACTIVE_REFUSED):
        async with uow() as s:
            s.add(row("other", "2.0.1", 5))
    async with uow() as s:
        await s.execute(update(Transaction).where(Transaction.id == tx_id).values(state="ended"))
        s.add(row("other", "2.0.1", 5))  # the EVSE is free now
    with pytest.raises(IntegrityError, match=START_REFUSED):
        async with uow() as s:
            await s.execute(update(Transaction).values(state="ended"))
            again = row("again", "1.6", 0)  # the first start once more, numbered here
            s.add(again)
            await s.flush()
            again.ocpp_transaction_id = str(again.id)


async def test_concurrent_starts_on_one_evse_leave_one_active(server: LiveServer) -> None:
    """Two writers (two sockets of one station) starting on the same EVSE at once: the index
    makes one retry, which ends the other's transaction."""
    await _setup(server)
    uow = server.app.state.gateway.uow
    now = datetime(2026, 11, 23, 9, tzinfo=UTC)

    async def start(minute: int, tag: str) -> int:
        at = datetime(2026, 11, 23, 8, minute, tzinfo=UTC)
        async with uow() as s:
            opened = await charging.open_transaction(
                s, now, TransactionStart("CP-X", 1, 1, at, minute, tag, "1.6")
            )
            return opened.transaction.id

    ids = await asyncio.gather(*(start(m, "TAG") for m in range(10)))
    records = [t for t in await _transactions(server) if t["id"] in ids]
    assert len(records) == 10
    assert [t["state"] for t in records].count("active") == 1
    assert {t["stop_reason"] for t in records if t["state"] == "ended"} == {"Superseded"}


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400", "1e15", "nan"])
async def test_v16_implausible_meter_value_is_refused_and_not_stored(
    server: LiveServer, value: str
) -> None:
    await _setup(server)
    async with connect(server.ws_base, "CP-X", "ocpp1.6") as st:
        tx = (await st.result("StartTransaction", _start16(1, "TAG", 0, T0)))["transactionId"]
        mv = {"timestamp": "2026-11-23T08:05:00Z", "sampledValue": [{"value": value}]}
        reply = await st.call(
            "MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [mv]}
        )
        assert reply[0] == 4 and reply[2] == "PropertyConstraintViolation", reply
        soc = {"value": "140", "measurand": "SoC", "unit": "Percent"}
        mv = {"timestamp": "2026-11-23T08:06:00Z", "sampledValue": [soc]}
        reply = await st.call(
            "MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [mv]}
        )
        assert reply[2] == "PropertyConstraintViolation"
        stop = {"transactionId": tx, "meterStop": 100, "timestamp": T1}
        data = [{"timestamp": T1, "sampledValue": [{"value": value}]}]
        reply = await st.call("StopTransaction", stop | {"transactionData": data})
        assert reply[2] == "PropertyConstraintViolation"
    values = (await server.http.get(f"/api/v1/transactions/{tx}/meter-values")).json()
    assert values == []


async def test_v201_implausible_meter_values_are_refused_and_not_stored(server: LiveServer) -> None:
    await _setup(server)
    ts = "2026-11-23T08:05:00Z"
    async with connect(server.ws_base, "CP-X", "ocpp2.0.1") as st:
        started = event("Started", 0, T0, evse={"id": 1, "connectorId": 1})
        await st.result("TransactionEvent", started)
        # A bare NaN is not JSON: a FormatViolation (OCPP-J 2.0.1 §4.3).
        frame = (
            '[2, "nan-1", "MeterValues", {"evseId": 1, "meterValue": [{"timestamp": "TS", '
            '"sampledValue": [{"value": NaN}]}]}]'
        ).replace("TS", ts)
        assert (await _raw(st, frame, "nan-1"))[2] == "FormatViolation"
        infinite = frame.replace("NaN", "Infinity").replace("nan-1", "inf-1")
        assert (await _raw(st, infinite, "inf-1"))[2] == "FormatViolation"
        for mid, value in (("big-1", "1e400"), ("big-2", "1e13")):  # inf, 10 TWh
            raw = frame.replace("NaN", value).replace("nan-1", mid)
            assert (await _raw(st, raw, mid))[2] == "PropertyConstraintViolation"
        bad = {"value": 5, "unitOfMeasure": {"unit": "Wh", "multiplier": 400}}
        updated = event("Updated", 1, ts, meterValue=[{"timestamp": ts, "sampledValue": [bad]}])
        assert (await st.call("TransactionEvent", updated))[2] == "PropertyConstraintViolation"
        # An idTag that merely spells NaN is fine.
        assert (await st.result("Authorize", {"idToken": {"idToken": "NaN", "type": "Central"}}))[
            "idTokenInfo"
        ]["status"] == "Invalid"
    [record] = await _transactions(server)
    assert (await server.http.get(f"/api/v1/transactions/{record['id']}/meter-values")).json() == []
