"""REST shapes of remote operations."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field

from evhub.params import DbInt


class ResetIn(BaseModel):
    hard: bool = Field(False, description="1.6 Hard / 2.0.1 Immediate; else Soft / OnIdle")


class RemoteStartIn(BaseModel):
    evse_id: DbInt = Field(ge=1)
    id_token: str = Field(min_length=1, max_length=36)


class RemoteStopIn(BaseModel):
    transaction_id: DbInt = Field(description="evhub's transaction id")


class AvailabilityIn(BaseModel):
    evse_id: DbInt = Field(0, ge=0, description="0 = the whole station")
    connector_id: DbInt | None = Field(None, ge=1)
    operative: bool


class UnlockIn(BaseModel):
    evse_id: DbInt = Field(ge=1)
    connector_id: DbInt = Field(1, ge=1)


class TriggerIn(BaseModel):
    message: Literal[
        "BootNotification", "Heartbeat", "MeterValues", "StatusNotification",
        "FirmwareStatusNotification", "DiagnosticsStatusNotification", "LogStatusNotification",
        "TransactionEvent",
    ]  # fmt: skip
    evse_id: DbInt | None = Field(None, ge=1)


class ConfigurationIn(BaseModel):
    key: str = Field(
        min_length=1, max_length=100, description="1.6 key or 2.0.1 Component.Variable"
    )
    value: str = Field(max_length=500)


class FirmwareIn(BaseModel):
    location: str = Field(min_length=1, max_length=512, pattern=r"^(https?|ftps?)://")
    retrieve_at: datetime | None = None


class ChargingLimitIn(BaseModel):
    """An operator's cap on one EVSE, which every plan respects until it expires."""

    evse_id: DbInt = Field(ge=1)
    limit_kw: float = Field(ge=0)
    expires_at: AwareDatetime | None = None


class CommandOut(BaseModel):
    station_id: str
    status: str
    detail: dict[str, Any] = {}


class BulkFilter(BaseModel):
    site_id: DbInt | None = None
    vendor: str | None = None
    model: str | None = None
    station_ids: list[str] | None = None


class BulkIn(BaseModel):
    filter: BulkFilter
    operation: Literal["reset", "clear-cache", "availability", "firmware", "configuration"]
    params: dict[str, Any] = {}


class BulkOut(BaseModel):
    results: list[CommandOut]
