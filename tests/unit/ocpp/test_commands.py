"""The charger port over OCPP: what a command to a station that goes away becomes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.websockets import WebSocketDisconnect

from evhub.control import ChargingLimit
from evhub.errors import StationUnavailable
from evhub.ocpp.commands import OcppChargerControl
from evhub.ocpp.registry import ConnectionRegistry


class ClosingLink:
    """A station whose socket closes as the call goes out (Starlette raises on send)."""

    id = "CP-1"
    ocpp_version = "2.0.1"

    async def call(self, payload: Any, suppress: bool = True) -> Any:
        raise WebSocketDisconnect(1006)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        return None


async def test_a_socket_closing_during_a_command_is_an_unavailable_station() -> None:
    """The planner counts such a limit as maybe applied and carries on (`dispatch`)."""
    registry = ConnectionRegistry()
    await registry.attach(ClosingLink())
    limit = ChargingLimit(1, datetime(2026, 11, 23, 9, tzinfo=UTC), [(0, 7.0)])
    with pytest.raises(StationUnavailable, match="disconnected during SetChargingProfile"):
        await OcppChargerControl(registry).set_charging_limit("CP-1", limit)
