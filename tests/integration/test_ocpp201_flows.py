"""OCPP 2.0.1: boot, status, authorisation, TransactionEvent, reports and notifications."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.live_server import LiveServer
from tests.integration.ocpp_client import RawStation, connect

BOOT = {
    "chargingStation": {
        "model": "Terra 184",
        "vendorName": "ABB",
        "firmwareVersion": "1.8.2",
        "serialNumber": "T184-0042",
    },
    "reason": "PowerUp",
}


async def _setup(server: LiveServer) -> None:
    site = await server.add_site()
    await server.add_station(
        "CP-2", site, evses=[{"evse_id": 1, "current_type": "DC", "max_power_kw": 150}]
    )
    await server.add_token("APP-1", type="Central")
    await server.add_token("CARD-BLOCKED", status="Blocked")


def meter(
    ts: str, wh: float, w: float, soc: float | None = None, context: str = "Sample.Periodic"
) -> dict[str, Any]:
    sampled: list[dict[str, Any]] = [
        {
            "value": wh / 1000,
            "measurand": "Energy.Active.Import.Register",
            "context": context,
            "unitOfMeasure": {"unit": "kWh"},
        },
        {
            "value": w,
            "measurand": "Power.Active.Import",
            "context": context,
            "unitOfMeasure": {"unit": "W"},
        },
    ]
    if soc is not None:
        sampled.append(
            {
                "value": soc,
                "measurand": "SoC",
                "context": context,
                "unitOfMeasure": {"unit": "Percent"},
            }
        )
    return {"timestamp": ts, "sampledValue": sampled}


def event(kind: str, seq: int, ts: str, tx: str = "tx-abc", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "eventType": kind,
        "timestamp": ts,
        "seqNo": seq,
        "triggerReason": {
            "Started": "Authorized",
            "Updated": "MeterValuePeriodic",
            "Ended": "EVCommunicationLost",
        }[kind],
        "transactionInfo": {"transactionId": tx},
    }
    return body | extra


async def run_session(st: RawStation) -> None:
    started = await st.result(
        "TransactionEvent",
        event(
            "Started",
            0,
            "2026-11-23T10:00:00Z",
            idToken={"idToken": "APP-1", "type": "Central"},
            evse={"id": 1, "connectorId": 1},
            meterValue=[meter("2026-11-23T10:00:00Z", 10_000, 0, 20, "Transaction.Begin")],
        ),
    )
    assert started["idTokenInfo"]["status"] == "Accepted"
    await st.result(
        "TransactionEvent",
        event(
            "Updated",
            1,
            "2026-11-23T10:10:00Z",
            transactionInfo={"transactionId": "tx-abc", "chargingState": "Charging"},
            meterValue=[meter("2026-11-23T10:10:00Z", 30_000, 120_000, 45)],
        ),
    )
    await st.result(
        "TransactionEvent",
        event(
            "Ended",
            2,
            "2026-11-23T10:20:00Z",
            transactionInfo={"transactionId": "tx-abc", "stoppedReason": "EVDisconnected"},
            meterValue=[meter("2026-11-23T10:20:00Z", 42_500, 0, 70, "Transaction.End")],
        ),
    )


async def test_boot_heartbeat_status(server: LiveServer) -> None:
    await _setup(server)
    async with connect(server.ws_base, "CP-2", "ocpp2.0.1") as st:
        reply = await st.result("BootNotification", BOOT)
        assert (reply["status"], reply["interval"]) == ("Accepted", 300)
        assert "currentTime" in await st.result("Heartbeat", {})
        await st.result(
            "StatusNotification",
            {
                "timestamp": "2026-11-23T10:00:00Z",
                "connectorStatus": "Occupied",
                "evseId": 1,
                "connectorId": 1,
            },
        )
    station = (await server.http.get("/api/v1/stations/CP-2")).json()
    assert (station["vendor"], station["serial_number"]) == ("ABB", "T184-0042")
    assert station["evses"][0]["connectors"][0]["status"] == "Occupied"


@pytest.mark.parametrize(
    ("token", "status"), [("APP-1", "Accepted"), ("CARD-BLOCKED", "Blocked"), ("X", "Invalid")]
)
async def test_authorize(server: LiveServer, token: str, status: str) -> None:
    await _setup(server)
    async with connect(server.ws_base, "CP-2", "ocpp2.0.1") as st:
        reply = await st.result("Authorize", {"idToken": {"idToken": token, "type": "ISO14443"}})
        assert reply["idTokenInfo"]["status"] == status
        if status != "Accepted":
            assert token in reply["idTokenInfo"]["personalMessage"]["content"]


async def test_transaction_event_lifecycle(server: LiveServer) -> None:
    await _setup(server)
    async with connect(server.ws_base, "CP-2", "ocpp2.0.1") as st:
        await run_session(st)
    [tx] = (await server.http.get("/api/v1/transactions", params={"station_id": "CP-2"})).json()
    assert tx["ocpp_transaction_id"] == "tx-abc"
    assert (tx["state"], tx["meter_start_wh"], tx["meter_stop_wh"], tx["energy_wh"]) == (
        "ended",
        10_000,
        42_500,
        32_500,
    )
    assert (tx["stop_reason"], tx["soc_last_pct"], tx["id_token"]) == (
        "EVDisconnected",
        70,
        "APP-1",
    )
    values = (await server.http.get(f"/api/v1/transactions/{tx['id']}/meter-values")).json()
    energy = [v["value"] for v in values if v["measurand"] == "Energy.Active.Import.Register"]
    assert energy == [10_000, 30_000, 42_500]


async def test_meter_values_message_attaches_to_active_transaction(server: LiveServer) -> None:
    await _setup(server)
    async with connect(server.ws_base, "CP-2", "ocpp2.0.1") as st:
        await st.result(
            "TransactionEvent",
            event("Started", 0, "2026-11-23T10:00:00Z", evse={"id": 1, "connectorId": 1}),
        )
        await st.result(
            "MeterValues", {"evseId": 1, "meterValue": [meter("2026-11-23T10:01:00Z", 1500, 7400)]}
        )
    [tx] = (await server.http.get("/api/v1/transactions", params={"station_id": "CP-2"})).json()
    assert tx["power_last_w"] == 7400 and tx["state"] == "active"


@pytest.mark.parametrize(
    ("action", "payload", "expected"),
    [
        ("FirmwareStatusNotification", {"status": "Installed", "requestId": 3}, "Installed"),
        ("LogStatusNotification", {"status": "Uploaded", "requestId": 4}, "Uploaded"),
        (
            "SecurityEventNotification",
            {"type": "TamperDetectionActivated", "timestamp": "2026-11-23T10:00:00Z"},
            "TamperDetectionActivated",
        ),
        (
            "NotifyReport",
            {
                "requestId": 9,
                "generatedAt": "2026-11-23T10:00:00Z",
                "seqNo": 0,
                "tbc": False,
                "reportData": [
                    {
                        "component": {"name": "EVSE"},
                        "variable": {"name": "Power"},
                        "variableAttribute": [{"value": "150000"}],
                    }
                ],
            },
            "Received",
        ),
    ],
)
async def test_notifications_are_recorded(
    server: LiveServer, action: str, payload: dict[str, Any], expected: str
) -> None:
    await _setup(server)
    async with connect(server.ws_base, "CP-2", "ocpp2.0.1") as st:
        assert await st.result(action, payload) == {}
    [ev] = (await server.http.get("/api/v1/stations/CP-2/events")).json()
    assert ev["status"] == expected


async def test_data_transfer_unknown_vendor(server: LiveServer) -> None:
    await _setup(server)
    async with connect(server.ws_base, "CP-2", "ocpp2.0.1") as st:
        assert (await st.result("DataTransfer", {"vendorId": "com.acme"}))[
            "status"
        ] == "UnknownVendorId"
