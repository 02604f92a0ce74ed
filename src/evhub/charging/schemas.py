"""REST shapes of transactions and meter values."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class TransactionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    station_id: str
    ocpp_transaction_id: str
    evse_id: int
    connector_id: int
    id_token: str | None
    state: str
    started_at: datetime
    stopped_at: datetime | None
    meter_start_wh: int
    meter_stop_wh: int | None
    energy_wh: int
    power_last_w: float | None
    soc_last_pct: float | None
    charging_state: str | None
    stop_reason: str | None


class MeterValueOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    timestamp: datetime
    measurand: str
    phase: str
    context: str
    value: float
    unit: str
