"""The EVSEs of a simulated station: hardware description, live state and meter samples.

Also the connector and stop-reason vocabularies both protocol versions map from, the pending
remote start and reservation an EVSE may hold, and the station's key-value configuration.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal

from evhub.sim.ev import SimEV
from evhub.sim.profiles import ChargingProfile, EvseContext


class ConnectorState(StrEnum):
    """Connector states; the values are OCPP 1.6 ChargePointStatus, v201 maps them (§4.9)."""

    AVAILABLE = "Available"
    PREPARING = "Preparing"
    CHARGING = "Charging"
    SUSPENDED_EV = "SuspendedEV"
    SUSPENDED_EVSE = "SuspendedEVSE"
    FINISHING = "Finishing"
    RESERVED = "Reserved"
    UNAVAILABLE = "Unavailable"
    FAULTED = "Faulted"


class StopReason(StrEnum):
    """Why a transaction ends; the values are OCPP 1.6 Reason, v201 maps them."""

    EV_DISCONNECTED = "EVDisconnected"
    REMOTE = "Remote"
    SOFT_RESET = "SoftReset"
    HARD_RESET = "HardReset"
    UNLOCK_COMMAND = "UnlockCommand"
    DEAUTHORIZED = "DeAuthorized"
    LOCAL = "Local"


@dataclass
class SimEvse:
    """Hardware description of one EVSE (one connector each in this simulator)."""

    evse_id: int
    dc: bool = False
    max_kw: float = 22.0
    phases: int = 3
    voltage: float = 230.0


@dataclass(frozen=True)
class Sample:
    measurand: str
    value: float
    unit: str
    phase: str | None = None


@dataclass(frozen=True)
class RemoteStart:
    id_token: str
    remote_start_id: int | None = None
    profile: ChargingProfile | None = None
    id_token_type: str = "Central"


@dataclass(frozen=True)
class Reservation:
    reservation_id: int
    evse_id: int
    id_token: str
    expiry: datetime | None


@dataclass
class EvseRuntime:
    """Live state of one EVSE: plugged EV, transaction and meter register."""

    spec: SimEvse
    state: ConnectorState = ConnectorState.AVAILABLE
    operative: bool = True
    pending_inoperative: bool = False
    ev: SimEV | None = None
    id_token: str | None = None
    id_token_type: str = "ISO14443"
    transaction_id: str | None = None
    transaction_start: datetime | None = None
    remote_start_id: int | None = None
    reservation_id: int | None = None
    meter_start_wh: float = 0.0
    import_wh: float = 0.0
    export_wh: float = 0.0
    power_kw: float = 0.0
    offered_kw: float = 0.0
    last_settle: datetime | None = None
    seq_no: int = 0
    pending_remote: RemoteStart | None = None
    reservation: Reservation | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def evse_id(self) -> int:
        return self.spec.evse_id

    @property
    def phases_in_use(self) -> int:
        if self.spec.dc or self.ev is None:
            return self.spec.phases
        return min(self.spec.phases, self.ev.ac_phases)

    def next_seq_no(self) -> int:
        """OCPP 2.0.1 E01: seqNo counts the TransactionEvents of one transaction from 0."""
        seq = self.seq_no
        self.seq_no += 1
        return seq

    def context(self) -> EvseContext:
        return EvseContext(
            evse_id=self.evse_id,
            max_kw=self.spec.max_kw,
            phases=self.phases_in_use,
            voltage=self.spec.voltage,
            transaction_id=self.transaction_id,
            transaction_start=self.transaction_start,
        )

    def samples(self) -> list[Sample]:
        """What the meter reports: register (Wh), power (W), current per phase (AC) or SoC (DC)."""
        power_w = self.power_kw * 1000.0
        out = [
            Sample("Energy.Active.Import.Register", round(self.import_wh), "Wh"),
            Sample("Power.Active.Import", round(max(power_w, 0.0), 1), "W"),
        ]
        if self.export_wh > 0 or power_w < 0:
            out.append(Sample("Energy.Active.Export.Register", round(self.export_wh), "Wh"))
            out.append(Sample("Power.Active.Export", round(max(-power_w, 0.0), 1), "W"))
        if not self.spec.dc:
            amps = abs(power_w) / (self.phases_in_use * self.spec.voltage)
            for n in range(1, self.spec.phases + 1):
                current = amps if n <= self.phases_in_use else 0.0
                out.append(Sample("Current.Import", round(current, 1), "A", f"L{n}"))
        elif self.ev is not None:
            out.append(Sample("SoC", round(self.ev.soc * 100.0, 1), "Percent"))
        return out


class StationConfig:
    """The small key-value configuration both versions expose (OCPP 1.6 key names; v201 maps)."""

    READONLY = frozenset(
        {
            "NumberOfConnectors",
            "ChargeProfileMaxStackLevel",
            "SupportedFeatureProfiles",
            "ChargingScheduleAllowedChargingRateUnit",
        }
    )
    _POSITIVE_NUMBERS = frozenset({"HeartbeatInterval", "MeterValueSampleInterval"})

    def __init__(self, connectors: int, meter_interval_s: float) -> None:
        self.values: dict[str, str] = {
            "HeartbeatInterval": "300",
            "MeterValueSampleInterval": str(int(meter_interval_s) or 1),
            "MeterValuesSampledData": "Energy.Active.Import.Register,Power.Active.Import,"
            "Current.Import,SoC",
            "AuthorizeRemoteTxRequests": "false",
            "ConnectionTimeOut": "120",
            "NumberOfConnectors": str(connectors),
            "ChargeProfileMaxStackLevel": "8",
            "ChargingScheduleAllowedChargingRateUnit": "Current,Power",
            "SupportedFeatureProfiles": "Core,FirmwareManagement,Reservation,SmartCharging,"
            "RemoteTrigger",
        }
        self.meter_interval_s = meter_interval_s

    @property
    def heartbeat_interval_s(self) -> float:
        return float(self.values["HeartbeatInterval"])

    def set(self, key: str, value: str) -> Literal["Accepted", "Rejected", "NotSupported"]:
        """OCPP 1.6 §5.3: unknown keys are NotSupported, read-only or malformed values Rejected."""
        if key not in self.values:
            return "NotSupported"
        if key in self.READONLY:
            return "Rejected"
        if key in self._POSITIVE_NUMBERS:
            try:
                number = float(value)
            except ValueError:
                return "Rejected"
            if number <= 0:
                return "Rejected"
            if key == "MeterValueSampleInterval":
                self.meter_interval_s = number
        self.values[key] = value
        return "Accepted"
