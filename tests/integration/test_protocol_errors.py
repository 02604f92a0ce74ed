"""Malformed frames and payloads get the protocol's CallError; the connection stays up."""

from __future__ import annotations

import pytest

from tests.integration.live_server import LiveServer
from tests.integration.ocpp_client import connect


@pytest.fixture(params=["ocpp1.6", "ocpp2.0.1"])
def protocol(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def _station(server: LiveServer) -> None:
    await server.add_station("CP-E", await server.add_site())


@pytest.mark.parametrize(
    ("frame", "message_id", "code"),
    [
        ("this is not json", "-1", "FormatViolation"),
        ('{"not": "an array"}', "-1", "ProtocolError"),
        ('[2, "m1"]', "m1", "ProtocolError"),
        ('[9, "m2", "Heartbeat", {}]', "m2", "PropertyConstraintViolation"),
    ],
    ids=["not-json", "object-not-array", "missing-elements", "bad-message-type"],
)
async def test_malformed_frame_gets_call_error(
    server: LiveServer, protocol: str, frame: str, message_id: str, code: str
) -> None:
    await _station(server)
    async with connect(server.ws_base, "CP-E", protocol) as st:
        reply = await st.send_raw(frame)
        assert reply[0] == 4 and reply[1] == message_id and reply[2] == code
        assert "currentTime" in await st.result("Heartbeat", {})  # still connected


async def test_schema_violations_get_precise_codes(server: LiveServer, protocol: str) -> None:
    await _station(server)
    async with connect(server.ws_base, "CP-E", protocol) as st:
        if protocol == "ocpp1.6":
            missing = await st.call("BootNotification", {"chargePointVendor": "X"})
            wrong_type = await st.call(
                "StartTransaction",
                {
                    "connectorId": "one",
                    "idTag": "A",
                    "meterStart": 0,
                    "timestamp": "2026-11-23T10:00:00Z",
                },
            )
            extra = await st.call("Heartbeat", {"surprise": 1})
        else:
            missing = await st.call("BootNotification", {"reason": "PowerUp"})
            wrong_type = await st.call(
                "StatusNotification",
                {
                    "timestamp": "2026-11-23T10:00:00Z",
                    "connectorStatus": "Available",
                    "evseId": "1",
                    "connectorId": 1,
                },
            )
            extra = await st.call("Heartbeat", {"surprise": 1})
        assert missing[:3] == [4, missing[1], "ProtocolError"]
        assert wrong_type[2] == "TypeConstraintViolation"
        assert extra[2] == "FormatViolation"
        assert "currentTime" in await st.result("Heartbeat", {})


async def test_unknown_action_gets_not_implemented(server: LiveServer, protocol: str) -> None:
    await _station(server)
    async with connect(server.ws_base, "CP-E", protocol) as st:
        reply = await st.call("TeleportCar", {})
        assert reply[2] == "NotImplemented"


async def test_bad_timestamp_gets_format_violation(server: LiveServer, protocol: str) -> None:
    await _station(server)
    async with connect(server.ws_base, "CP-E", protocol) as st:
        reply = await st.call("SecurityEventNotification", {"type": "X", "timestamp": "yesterday"})
        assert reply[2] == "FormatViolation"


async def test_non_numeric_meter_value_is_a_type_violation(server: LiveServer) -> None:
    await _station(server)
    async with connect(server.ws_base, "CP-E", "ocpp1.6") as st:
        reply = await st.call(
            "MeterValues",
            {
                "connectorId": 1,
                "meterValue": [
                    {"timestamp": "2026-11-23T10:00:00Z", "sampledValue": [{"value": "lots"}]}
                ],
            },
        )
        assert reply[2] == "TypeConstraintViolation"
