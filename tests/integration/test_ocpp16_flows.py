"""OCPP 1.6J: boot, status, authorisation, a whole transaction, notifications."""

from __future__ import annotations

import pytest

from tests.integration.live_server import LiveServer
from tests.integration.ocpp_client import RawStation, connect

BOOT = {"chargePointVendor": "Alfen", "chargePointModel": "Eve Single", "firmwareVersion": "4.1"}


async def _setup(server: LiveServer, commissioned: bool = True) -> None:
    site = await server.add_site()
    await server.add_station(
        "CP-16", site, commissioned=commissioned, evses=[{"evse_id": 1}, {"evse_id": 2}]
    )
    await server.add_token("TAG-OK")
    await server.add_token("TAG-BLOCKED", status="Blocked")
    await server.add_token("TAG-OLD", expires_at="2020-01-01T00:00:00Z")


def _meter(ts: str, wh: float, w: float | None = None) -> dict[str, object]:
    values: list[dict[str, object]] = [
        {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
    ]
    if w is not None:
        values.append({"value": str(w), "measurand": "Power.Active.Import", "unit": "W"})
        for phase in ("L1", "L2", "L3"):
            values.append(
                {"value": "16.0", "measurand": "Current.Import", "phase": phase, "unit": "A"}
            )
    return {"timestamp": ts, "sampledValue": values}


async def test_boot_accepted_with_heartbeat_interval(server: LiveServer) -> None:
    await _setup(server)
    async with connect(server.ws_base, "CP-16", "ocpp1.6") as st:
        reply = await st.result("BootNotification", BOOT)
        assert reply["status"] == "Accepted"
        assert reply["interval"] == 300
        station = (await server.http.get("/api/v1/stations/CP-16")).json()
        assert (station["vendor"], station["model"], station["firmware_version"]) == (
            "Alfen",
            "Eve Single",
            "4.1",
        )
        assert station["registration_status"] == "Accepted"
        assert "currentTime" in await st.result("Heartbeat", {})


async def test_boot_pending_until_commissioned(server: LiveServer) -> None:
    await _setup(server, commissioned=False)
    async with connect(server.ws_base, "CP-16", "ocpp1.6") as st:
        assert (await st.result("BootNotification", BOOT))["status"] == "Pending"
        r = await server.http.patch("/api/v1/stations/CP-16", json={"commissioned": True})
        assert r.status_code == 200
        assert (await st.result("BootNotification", BOOT))["status"] == "Accepted"


async def test_status_notification_updates_connector_and_history(server: LiveServer) -> None:
    await _setup(server)
    async with connect(server.ws_base, "CP-16", "ocpp1.6") as st:
        await st.result(
            "StatusNotification",
            {
                "connectorId": 2,
                "errorCode": "GroundFailure",
                "status": "Faulted",
                "timestamp": "2026-11-23T10:00:00Z",
            },
        )
        # A report queued while offline arrives late: history keeps it, the state stays newer.
        await st.result(
            "StatusNotification",
            {
                "connectorId": 2,
                "errorCode": "NoError",
                "status": "Available",
                "timestamp": "2026-11-23T09:00:00Z",
            },
        )
    station = (await server.http.get("/api/v1/stations/CP-16")).json()
    connector = station["evses"][1]["connectors"][0]
    assert (connector["status"], connector["error_code"]) == ("Faulted", "GroundFailure")
    history = (await server.http.get("/api/v1/stations/CP-16/status-history")).json()
    assert [h["status"] for h in history] == ["Available", "Faulted"]


@pytest.mark.parametrize(
    ("tag", "status"),
    [
        ("TAG-OK", "Accepted"),
        ("TAG-BLOCKED", "Blocked"),
        ("TAG-OLD", "Expired"),
        ("NOPE", "Invalid"),
    ],
)
async def test_authorize_answers_from_token_store(
    server: LiveServer, tag: str, status: str
) -> None:
    await _setup(server)
    async with connect(server.ws_base, "CP-16", "ocpp1.6") as st:
        reply = await st.result("Authorize", {"idTag": tag})
        assert reply["idTagInfo"]["status"] == status


async def _charge(st: RawStation) -> int:
    started = await st.result(
        "StartTransaction",
        {
            "connectorId": 1,
            "idTag": "TAG-OK",
            "meterStart": 1000,
            "timestamp": "2026-11-23T10:00:00Z",
        },
    )
    assert started["idTagInfo"]["status"] == "Accepted"
    tx = int(started["transactionId"])
    await st.result(
        "MeterValues",
        {
            "connectorId": 1,
            "transactionId": tx,
            "meterValue": [_meter("2026-11-23T10:05:00Z", 2500, 11000)],
        },
    )
    return tx


async def test_transaction_start_meter_values_stop(server: LiveServer) -> None:
    await _setup(server)
    async with connect(server.ws_base, "CP-16", "ocpp1.6") as st:
        tx = await _charge(st)
        active = (
            await server.http.get("/api/v1/transactions", params={"station_id": "CP-16"})
        ).json()
        assert active[0]["state"] == "active" and active[0]["energy_wh"] == 1500
        assert active[0]["power_last_w"] == 11000
        stop = await st.result(
            "StopTransaction",
            {
                "transactionId": tx,
                "meterStop": 7000,
                "idTag": "TAG-OK",
                "timestamp": "2026-11-23T10:30:00Z",
                "reason": "EVDisconnected",
            },
        )
        assert stop["idTagInfo"]["status"] == "Accepted"
    [done] = (await server.http.get("/api/v1/transactions", params={"station_id": "CP-16"})).json()
    assert done["state"] == "ended"
    assert (done["meter_start_wh"], done["meter_stop_wh"], done["energy_wh"]) == (1000, 7000, 6000)
    assert done["id_token"] == "TAG-OK" and done["stop_reason"] == "EVDisconnected"
    values = (await server.http.get(f"/api/v1/transactions/{done['id']}/meter-values")).json()
    assert {v["measurand"] for v in values} == {
        "Energy.Active.Import.Register",
        "Power.Active.Import",
        "Current.Import",
    }
    assert sorted(v["phase"] for v in values if v["measurand"] == "Current.Import") == [
        "L1",
        "L2",
        "L3",
    ]


async def test_start_with_blocked_tag_is_recorded_and_refused(server: LiveServer) -> None:
    await _setup(server)
    async with connect(server.ws_base, "CP-16", "ocpp1.6") as st:
        started = await st.result(
            "StartTransaction",
            {
                "connectorId": 1,
                "idTag": "TAG-BLOCKED",
                "meterStart": 0,
                "timestamp": "2026-11-23T10:00:00Z",
            },
        )
        assert started["idTagInfo"]["status"] == "Blocked"
        assert isinstance(started["transactionId"], int)


@pytest.mark.parametrize(
    ("status_action", "payload"),
    [
        ("FirmwareStatusNotification", {"status": "Downloading"}),
        ("DiagnosticsStatusNotification", {"status": "Uploaded"}),
        (
            "SecurityEventNotification",
            {"type": "InvalidFirmwareSignature", "timestamp": "2026-11-23T10:00:00Z"},
        ),
        ("LogStatusNotification", {"status": "Uploading", "requestId": 7}),
    ],
)
async def test_notifications_are_recorded(
    server: LiveServer, status_action: str, payload: dict[str, object]
) -> None:
    await _setup(server)
    async with connect(server.ws_base, "CP-16", "ocpp1.6") as st:
        assert await st.result(status_action, payload) == {}
    events = (await server.http.get("/api/v1/stations/CP-16/events")).json()
    assert events[0]["status"] == payload.get("status", payload.get("type"))


async def test_data_transfer_unknown_vendor(server: LiveServer) -> None:
    await _setup(server)
    async with connect(server.ws_base, "CP-16", "ocpp1.6") as st:
        reply = await st.result(
            "DataTransfer", {"vendorId": "com.example", "messageId": "x", "data": "y"}
        )
        assert reply["status"] == "UnknownVendorId"
