"""REST shapes of site plans and declared needs."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class NeedIn(BaseModel):
    energy_kwh: float = Field(gt=0, le=500, description="energy wanted in this session")
    departure: datetime = Field(description="when the car leaves (with offset)")


class NeedOut(BaseModel):
    transaction_id: int
    energy_kwh: float | None
    departure_at: datetime | None
    source: str


class PlannedSession(BaseModel):
    transaction_id: int
    station_id: str
    evse_id: int
    need_kwh: float
    remaining_kwh: float
    departure: datetime
    need_source: str
    max_power_kw: float
    limit_kw: float
    measured_kw: float | None
    allocated_kw: list[float] = Field(description="one value per slot from `start`")


class SitePlanOut(BaseModel):
    site_id: int
    computed_at: datetime
    start: datetime
    slot_minutes: float
    grid_limit_kw: float
    capacity_kw: float = Field(description="what the plan shares: the limit minus allowances")
    algorithm: str
    status: str
    solve_ms: float
    measured_load_kw: float
    planned_load_kw: list[float] = Field(description="site total per slot")
    reserved_kw: list[float] = Field(description="kept per slot for booked cars not there yet")
    idle_allowance_kw: float
    uncontrolled_kw: float
    sessions: list[PlannedSession]
