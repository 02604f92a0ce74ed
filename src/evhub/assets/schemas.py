"""REST shapes of sites and stations."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from evhub.params import DbInt


class SiteIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    timezone: str = Field(examples=["Europe/Paris"])
    grid_limit_kw: float = Field(gt=0)
    address: str = ""
    town: str = ""
    country: str = Field(default="FR", min_length=2, max_length=2)
    currency: str = Field(default="EUR", min_length=3, max_length=3)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)


class SitePatch(BaseModel):
    """The fields to change; only the coordinates may be cleared with null."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    timezone: str | None = None
    grid_limit_kw: float | None = Field(default=None, gt=0)
    address: str | None = None
    town: str | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    tariff_id: str | None = Field(
        default=None, min_length=1, max_length=36, description="the site's public tariff"
    )

    @model_validator(mode="before")
    @classmethod
    def _no_null_for_required(cls, data: Any) -> Any:
        if isinstance(data, dict):
            nulls = [k for k in NOT_NULL_SITE_FIELDS if k in data and data[k] is None]
            if nulls:
                raise ValueError(f"{', '.join(nulls)} cannot be null")
        return data


NOT_NULL_SITE_FIELDS = ("name", "timezone", "grid_limit_kw", "address", "town")


class SiteOut(SiteIn):
    model_config = ConfigDict(from_attributes=True)
    id: int
    tariff_id: str | None = None
    created_at: datetime


class EvseIn(BaseModel):
    evse_id: DbInt = Field(ge=1)
    current_type: Literal["AC", "DC"] = "AC"
    phases: DbInt = Field(default=3, ge=1, le=3)
    max_power_kw: float = Field(default=22.0, gt=0)
    connectors: DbInt = Field(default=1, ge=1, le=4)
    standard: str = "IEC62196Type2"


class StationIn(BaseModel):
    id: str = Field(min_length=1, max_length=48, pattern=r"^[A-Za-z0-9._\-]+$")
    site_id: DbInt
    password: str | None = Field(
        default=None, description="16-40 characters; generated and returned once when omitted"
    )
    commissioned: bool = True
    evses: list[EvseIn] = []


class ConnectorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    connector_id: int
    standard: str
    status: str
    error_code: str | None
    status_at: datetime | None


class EvseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    evse_id: int
    current_type: str
    phases: int
    max_power_kw: float
    connectors: list[ConnectorOut]


class StationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    site_id: int
    commissioned: bool
    registration_status: str
    online: bool
    ocpp_version: str | None
    vendor: str | None
    model: str | None
    serial_number: str | None
    firmware_version: str | None
    last_seen_at: datetime | None
    last_boot_at: datetime | None
    evses: list[EvseOut]


class StationCreated(StationOut):
    password: str | None = Field(
        default=None, description="only when evhub generated it; not retrievable later"
    )


class StationPatch(BaseModel):
    commissioned: bool


class StationEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    kind: str
    status: str
    detail: str
    request_id: int | None
    timestamp: datetime | None
    received_at: datetime


class StatusRecordOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    evse_id: int
    connector_id: int
    status: str
    error_code: str | None
    timestamp: datetime
