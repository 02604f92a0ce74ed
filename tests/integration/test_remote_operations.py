"""Remote operations from the REST API reach the station in its own protocol version."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.live_server import LiveServer, run_server
from tests.integration.ocpp_client import answer_until, connect


async def _setup(server: LiveServer) -> None:
    site = await server.add_site()
    await server.add_station("CP-R", site, evses=[{"evse_id": 1, "phases": 3}])


async def _operate(
    server: LiveServer,
    protocol: str,
    method: str,
    path: str,
    body: Any,
    reply: dict[str, Any],
    action: str,
    match: Callable[[dict[str, Any]], bool] = lambda _: True,
) -> tuple[list[Any], dict[str, Any]]:
    """Send the REST request, answer the station's side, return (Call frame, REST response)."""
    async with connect(server.ws_base, "CP-R", protocol) as st:
        request = asyncio.ensure_future(
            server.http.request(method, f"/api/v1/stations/CP-R/{path}", json=body)
        )
        frame = await answer_until(st, action, reply, match)
        response = await request
    assert response.status_code == 200, response.text
    return frame, response.json()


CASES = [
    ("ocpp1.6", "POST", "reset", {"hard": True}, "Reset", {"type": "Hard"}),
    ("ocpp2.0.1", "POST", "reset", {"hard": False}, "Reset", {"type": "OnIdle"}),
    (
        "ocpp1.6",
        "POST",
        "availability",
        {"evse_id": 1, "operative": False},
        "ChangeAvailability",
        {"connectorId": 1, "type": "Inoperative"},
    ),
    (
        "ocpp2.0.1",
        "POST",
        "availability",
        {"evse_id": 1, "operative": False},
        "ChangeAvailability",
        {"operationalStatus": "Inoperative", "evse": {"id": 1}},
    ),
    (
        "ocpp1.6",
        "POST",
        "remote-start",
        {"evse_id": 1, "id_token": "TAG"},
        "RemoteStartTransaction",
        {"idTag": "TAG", "connectorId": 1},
    ),
    ("ocpp1.6", "POST", "unlock", {"evse_id": 1}, "UnlockConnector", {"connectorId": 1}),
    (
        "ocpp2.0.1",
        "POST",
        "unlock",
        {"evse_id": 1, "connector_id": 1},
        "UnlockConnector",
        {"evseId": 1, "connectorId": 1},
    ),
    (
        "ocpp1.6",
        "POST",
        "trigger",
        {"message": "StatusNotification", "evse_id": 1},
        "TriggerMessage",
        {"requestedMessage": "StatusNotification", "connectorId": 1},
    ),
    ("ocpp1.6", "POST", "clear-cache", None, "ClearCache", {}),
    ("ocpp2.0.1", "POST", "clear-cache", None, "ClearCache", {}),
    (
        "ocpp1.6",
        "PUT",
        "configuration",
        {"key": "HeartbeatInterval", "value": "60"},
        "ChangeConfiguration",
        {"key": "HeartbeatInterval", "value": "60"},
    ),
]


@pytest.mark.parametrize(("protocol", "method", "path", "body", "action", "payload"), CASES)
async def test_operation_reaches_station(
    server: LiveServer,
    protocol: str,
    method: str,
    path: str,
    body: Any,
    action: str,
    payload: dict[str, Any],
) -> None:
    await _setup(server)
    reply = {"status": "Accepted"} if action not in ("UnlockConnector",) else {"status": "Unlocked"}
    frame, out = await _operate(server, protocol, method, path, body, reply, action)
    assert frame[2] == action
    assert frame[3] == payload
    assert out["status"] == reply["status"]


@pytest.mark.parametrize(
    ("protocol", "action", "reply", "field"),
    [
        ("ocpp1.6", "GetLocalListVersion", {"listVersion": 7}, "list_version"),
        ("ocpp2.0.1", "GetLocalListVersion", {"versionNumber": 7}, "version_number"),
    ],
)
async def test_local_list_version_is_read(
    server: LiveServer, protocol: str, action: str, reply: dict[str, Any], field: str
) -> None:
    await _setup(server)
    frame, out = await _operate(server, protocol, "GET", "local-list/version", None, reply, action)
    assert out["status"] == "Accepted" and out["detail"][field] == 7


@pytest.mark.parametrize("protocol", ["ocpp1.6", "ocpp2.0.1"])
async def test_local_list_carries_every_token_with_its_status(
    server: LiveServer, protocol: str
) -> None:
    await _setup(server)
    await server.add_token("CARD-1")
    await server.add_token("CARD-2", status="Blocked")
    frame, out = await _operate(
        server, protocol, "POST", "local-list", None, {"status": "Accepted"}, "SendLocalList"
    )
    entries = frame[3]["localAuthorizationList"]
    assert frame[3]["updateType"] == "Full" and out["detail"]["entries"] == 2
    if protocol == "ocpp1.6":
        pairs = {(e["idTag"], e["idTagInfo"]["status"]) for e in entries}
    else:
        pairs = {(e["idToken"]["idToken"], e["idTokenInfo"]["status"]) for e in entries}
    assert pairs == {("CARD-1", "Accepted"), ("CARD-2", "Blocked")}


async def test_v201_base_report_is_requested_and_stored(server: LiveServer) -> None:
    await _setup(server)
    async with connect(server.ws_base, "CP-R", "ocpp2.0.1") as st:
        request = asyncio.ensure_future(server.http.post("/api/v1/stations/CP-R/report"))
        frame = await answer_until(st, "GetBaseReport", {"status": "Accepted"})
        out = (await request).json()
        assert frame[3] == {"requestId": out["detail"]["request_id"], "reportBase": "FullInventory"}
        report = {
            "requestId": out["detail"]["request_id"], "generatedAt": "2026-11-23T10:00:00Z",
            "seqNo": 0, "tbc": False,
            "reportData": [{"component": {"name": "EVSE", "evse": {"id": 1}},
                            "variable": {"name": "Power"},
                            "variableAttribute": [{"value": "22000"}]}],
        }  # fmt: skip
        assert await st.result("NotifyReport", report) == {}
    [ev] = (await server.http.get("/api/v1/stations/CP-R/events", params={"kind": "report"})).json()
    assert ev["request_id"] == out["detail"]["request_id"] and "22000" in ev["detail"]


async def test_v201_remote_start_carries_a_remote_start_id(server: LiveServer) -> None:
    await _setup(server)
    frame, out = await _operate(
        server,
        "ocpp2.0.1",
        "POST",
        "remote-start",
        {"evse_id": 1, "id_token": "APP"},
        {"status": "Accepted"},
        "RequestStartTransaction",
    )
    assert frame[2] == "RequestStartTransaction"
    assert (
        frame[3]["idToken"] == {"idToken": "APP", "type": "Central"}
        and frame[3]["remoteStartId"] > 0
    )


async def test_v201_set_variables_reports_per_variable_status(server: LiveServer) -> None:
    await _setup(server)
    reply = {
        "setVariableResult": [
            {
                "attributeStatus": "Rejected",
                "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "HeartbeatInterval"},
            }
        ]
    }
    frame, out = await _operate(
        server,
        "ocpp2.0.1",
        "PUT",
        "configuration",
        {"key": "OCPPCommCtrlr.HeartbeatInterval", "value": "60"},
        reply,
        "SetVariables",
    )
    assert frame[3]["setVariableData"][0]["component"] == {"name": "OCPPCommCtrlr"}
    assert out["status"] == "Rejected"


async def test_station_rejection_is_returned(server: LiveServer) -> None:
    await _setup(server)
    _, out = await _operate(
        server, "ocpp1.6", "POST", "reset", {"hard": False}, {"status": "Rejected"}, "Reset"
    )
    assert out["status"] == "Rejected"


async def test_offline_station_gets_409(server: LiveServer) -> None:
    await _setup(server)
    r = await server.http.post("/api/v1/stations/CP-R/reset", json={"hard": False})
    assert r.status_code == 409 and "not connected" in r.json()["detail"]


async def test_silent_station_gets_504(database_url: str) -> None:
    async with run_server(database_url, ocpp_response_timeout_s=0.5) as server:
        await _setup(server)
        async with connect(server.ws_base, "CP-R", "ocpp2.0.1"):
            r = await server.http.post("/api/v1/stations/CP-R/reset", json={"hard": True})
        assert r.status_code == 504 and "did not answer" in r.json()["detail"]


async def test_charging_limit_is_a_cap_the_planner_sends_in_amperes_for_ac(
    server: LiveServer,
) -> None:
    """The site's TxDefault share would be the EVSE's 22 kW: the cap of 6.9 kW bounds it."""
    await _setup(server)
    frame, out = await _operate(
        server,
        "ocpp1.6",
        "POST",
        "charging-limit",
        {"evse_id": 1, "limit_kw": 6.9},
        {"status": "Accepted"},
        "SetChargingProfile",
        # not the planner's first TxDefault allowance, sent before the cap
        lambda p: (
            p["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"]
            == 10.0
        ),
    )
    assert out["status"] == "Accepted" and out["detail"]["limit_kw"] == 6.9
    profile = frame[3]["csChargingProfiles"]
    assert profile["chargingProfilePurpose"] == "TxDefaultProfile"
    assert profile["chargingSchedule"]["chargingRateUnit"] == "A"
    r = await server.http.delete("/api/v1/stations/CP-R/charging-limit/1")
    assert r.status_code == 204
    r = await server.http.delete("/api/v1/stations/CP-R/charging-limit/1")
    assert r.status_code == 404


async def test_bulk_reset_reports_per_station(server: LiveServer) -> None:
    site = await server.add_site()
    await server.add_station("CP-A", site)
    await server.add_station("CP-B", site)
    async with connect(server.ws_base, "CP-A", "ocpp1.6") as st:
        request = asyncio.ensure_future(
            server.http.post(
                "/api/v1/operations/bulk",
                json={"filter": {"site_id": site}, "operation": "reset", "params": {"hard": True}},
            )
        )
        await answer_until(st, "Reset", {"status": "Accepted"})
        response = await request
    results = {r["station_id"]: r["status"] for r in response.json()["results"]}
    assert results == {"CP-A": "Accepted", "CP-B": "Offline"}


async def test_log_upload_is_stored(server: LiveServer) -> None:
    await _setup(server)
    frame, out = await _operate(
        server,
        "ocpp2.0.1",
        "POST",
        "logs",
        None,
        {"status": "Accepted", "filename": "x.log"},
        "GetLog",
    )
    location = frame[3]["log"]["remoteLocation"]
    assert location == out["detail"]["location"]
    r = await server.http.put(location + "diag-1.log", content=b"line one\nline two\n")
    assert r.status_code == 200 and r.json()["bytes"] == 18
    [ev] = (
        await server.http.get("/api/v1/stations/CP-R/events", params={"kind": "log_upload"})
    ).json()
    assert ev["request_id"] == out["detail"]["request_id"]
