"""REST shapes of site plans and declared needs."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator


class NeedIn(BaseModel):
    """Energy and departure together, and/or the vehicle-to-grid side: a field left out keeps
    what was said before."""

    energy_kwh: float | None = Field(
        default=None, gt=0, le=500, description="energy wanted in this session"
    )
    departure: datetime | None = Field(
        default=None, description="when the car leaves (with offset)"
    )
    v2g_consent: bool | None = Field(
        default=None,
        description="the driver lets the car feed the grid (OCPP 2.1 bidirectional stations)",
    )
    min_soc_pct: float | None = Field(
        default=None, ge=0, le=100, description="never discharge below this state of charge"
    )
    target_soc_pct: float | None = Field(
        default=None, ge=0, le=100, description="state of charge wanted at departure"
    )

    @model_validator(mode="after")
    def _something_said(self) -> NeedIn:
        if (self.energy_kwh is None) != (self.departure is None):
            raise ValueError("energy_kwh and departure go together")
        if (
            self.energy_kwh is None
            and self.v2g_consent is None
            and (self.min_soc_pct is None and self.target_soc_pct is None)
        ):
            raise ValueError("nothing declared")
        if (
            self.min_soc_pct is not None
            and self.target_soc_pct is not None
            and self.min_soc_pct > self.target_soc_pct
        ):
            raise ValueError("min_soc_pct above target_soc_pct")
        return self


class NeedOut(BaseModel):
    transaction_id: int
    energy_kwh: float | None
    departure_at: datetime | None
    source: str | None = Field(description="who said energy and departure (none yet: null)")
    v2g_consent: bool = False
    min_soc_pct: float | None = None
    target_soc_pct: float | None = None


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


class TelemetryIn(BaseModel):
    """A connected car's report, as its maker's cloud sends it."""

    model_config = ConfigDict(extra="forbid")

    measured_at: AwareDatetime = Field(description="when the car measured it (with offset)")
    soc_pct: float = Field(ge=0, le=100, allow_inf_nan=False, description="state of charge")
    plugged_in: bool
    target_soc_pct: float | None = Field(
        default=None, ge=0, le=100, allow_inf_nan=False,
        description="the charge limit set in the car's app",
    )  # fmt: skip
    departure_at: AwareDatetime | None = Field(
        default=None, description="the next departure set in the car's app (with offset)"
    )


class TelemetryOut(BaseModel):
    vehicle_id: int
    measured_at: datetime
    stored: bool = Field(description="false: a report measured later is stored already")
    transaction_id: int | None = Field(description="the charge the report was tied to")


class TelemetryTokenOut(BaseModel):
    vehicle_id: int
    token: str = Field(description="shown once: send it as 'Authorization: Bearer <token>'")
    issued_at: datetime


class V2gChoiceIn(BaseModel):
    """The driver's standing vehicle-to-grid choice, as on the V2G page: states of charge in
    percent of the battery; the floor at most the target (checked by the same rule as the
    page's, answered 422 with its reason)."""

    model_config = ConfigDict(extra="forbid")

    consent: bool = Field(description="let the car feed the grid when it pays")
    min_soc_pct: float | None = Field(
        default=None, allow_inf_nan=False, description="never below (floor), 0-100 %"
    )
    target_soc_pct: float | None = Field(
        default=None, allow_inf_nan=False, description="at departure (target), 0-100 %"
    )


class AmountOut(BaseModel):
    amount: Decimal = Field(description="excl. VAT")
    currency: str


class V2gChargeOut(BaseModel):
    transaction_id: int
    station_id: str
    started_at: datetime
    soc_pct: float | None
    protocol: str = Field(description="the station's OCPP version")
    consent: bool
    can_discharge: bool = Field(description="the station and the car can discharge")


class V2gAccountOut(BaseModel):
    consent: bool
    min_soc_pct: float | None
    target_soc_pct: float | None
    earned: AmountOut = Field(description="V2G credits of this month's charges so far")
    charges: list[V2gChargeOut] = Field(description="the driver's charges running now")
