"""JSON of a driver's charging from an app: hubs, starts, sessions, needs."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, Field


class EvseOut(BaseModel):
    station_id: str
    evse_id: int
    current_type: str
    max_power_kw: float
    state: str = Field(description="Available, Occupied, Reserved, Faulted, Unavailable, Offline")


class HubOut(BaseModel):
    site_id: int
    name: str
    address: str
    town: str
    latitude: float | None
    longitude: float | None
    distance_km: float | None
    available: int
    evses: list[EvseOut]
    tariff_id: str | None = Field(description="The tariff that would price the driver here.")
    price: list[str] = Field(description="That tariff in words.")


class ChargeIn(BaseModel):
    station_id: str = Field(min_length=1, max_length=48)
    evse_id: int = Field(ge=1, le=9999)


class ChargeOut(BaseModel):
    station_id: str
    evse_id: int
    request_id: int = Field(description="The transaction carries it once the station starts.")
    status: str = "Accepted"


class MoneyOut(BaseModel):
    excl_vat: Decimal
    incl_vat: Decimal
    currency: str


class NeedIn(BaseModel):
    energy_kwh: float | None = Field(default=None, gt=0, le=200)
    departure: AwareDatetime | None = None


class NeedOut(BaseModel):
    energy_kwh: float | None
    departure_at: datetime | None
    source: str


class DriverSessionOut(BaseModel):
    id: int
    station_id: str
    evse_id: int
    state: str
    started_at: datetime
    stopped_at: datetime | None
    energy_wh: int
    power_w: float | None
    soc_pct: float | None
    cost: MoneyOut | None = Field(description="So far while running; the CDR's once issued.")
    cdr_id: int | None
    need: NeedOut | None
