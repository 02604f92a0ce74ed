"""The port through which domains act on chargers, whatever protocol or simulator is behind.

Planning, reservations and maintenance call these methods; the OCPP gateway implements them
(`evhub.ocpp.commands.OcppChargerControl`), so no domain imports the gateway.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

NOMINAL_VOLTAGE_V = 230.0


class ProfilePurpose(StrEnum):
    TX = "TxProfile"
    TX_DEFAULT = "TxDefaultProfile"
    STATION_MAX = "ChargePointMaxProfile"  # ChargingStationMaxProfile in 2.0.1


@dataclass(frozen=True)
class ChargingLimit:
    """A power limit schedule for one EVSE: `periods` are (seconds from `start`, kW)."""

    evse_id: int
    start: datetime
    periods: list[tuple[int, float]]
    purpose: ProfilePurpose = ProfilePurpose.TX
    transaction_id: str | None = None
    unit: str = "W"
    phases: int = 3
    voltage_v: float = NOMINAL_VOLTAGE_V
    stack_level: int = 1
    duration_s: int | None = None
    # After this the station drops the profile and falls back to the next one down (a TxProfile
    # to its TxDefault): a limit evhub stops renewing ends by itself (1.6 §7.8, 2.0.1 §2.10).
    valid_to: datetime | None = None

    def value_in_unit(self, kw: float) -> float:
        """The limit in the schedule's unit; amperes per phase for "A". One decimal (§7.13),
        rounded down: rounding up on every EVSE could add up past the site's limit."""
        value = kw * 1000.0 / (self.phases * self.voltage_v) if self.unit == "A" else kw * 1000.0
        return math.floor(value * 10 + 1e-9) / 10

    def kw_of(self, value: float) -> float:
        """The power a schedule value stands for (the inverse of `value_in_unit`)."""
        return value * (self.phases * self.voltage_v if self.unit == "A" else 1.0) / 1000.0


@dataclass(frozen=True)
class CommandResult:
    """The station's answer: `status` as it said it, and any other fields of the reply."""

    status: str
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return self.status in ("Accepted", "Scheduled", "Unlocked", "RebootRequired")


class ChargerControl(Protocol):
    def is_connected(self, station_id: str) -> bool: ...

    async def set_charging_limit(self, station_id: str, limit: ChargingLimit) -> CommandResult: ...

    async def clear_charging_limit(
        self, station_id: str, evse_id: int | None, purpose: ProfilePurpose
    ) -> CommandResult: ...

    async def remote_start(
        self, station_id: str, evse_id: int, id_token: str, remote_start_id: int
    ) -> CommandResult: ...

    async def remote_stop(self, station_id: str, transaction_id: str) -> CommandResult: ...

    async def reset(self, station_id: str, hard: bool) -> CommandResult: ...

    async def change_availability(
        self, station_id: str, evse_id: int, connector_id: int | None, operative: bool
    ) -> CommandResult: ...

    async def unlock_connector(
        self, station_id: str, evse_id: int, connector_id: int
    ) -> CommandResult: ...

    async def trigger_message(
        self, station_id: str, message: str, evse_id: int | None
    ) -> CommandResult: ...

    async def reserve_now(
        self,
        station_id: str,
        evse_id: int,
        reservation_id: int,
        id_token: str,
        expires_at: datetime,
        group_id: str | None,
    ) -> CommandResult: ...

    async def cancel_reservation(self, station_id: str, reservation_id: int) -> CommandResult: ...

    async def get_config(self, station_id: str, keys: list[str]) -> CommandResult: ...

    async def set_config(self, station_id: str, key: str, value: str) -> CommandResult: ...

    async def clear_cache(self, station_id: str) -> CommandResult: ...

    async def update_firmware(
        self, station_id: str, location: str, retrieve_at: datetime, request_id: int
    ) -> CommandResult: ...

    async def upload_logs(
        self, station_id: str, location: str, request_id: int
    ) -> CommandResult: ...

    async def send_local_list(
        self, station_id: str, version: int, entries: list[tuple[str, str]], full: bool
    ) -> CommandResult: ...

    async def get_local_list_version(self, station_id: str) -> CommandResult: ...

    async def get_base_report(self, station_id: str, request_id: int) -> CommandResult: ...
