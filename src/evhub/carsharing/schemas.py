"""Pydantic shapes of the car-sharing API (snake_case, like the rest of /api/v1)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from evhub.carsharing.state import Propulsion, VehicleState


class DocumentIn(BaseModel):
    kind: str = Field(min_length=1, max_length=32)  # registration, insurance, ...
    reference: str = Field(default="", max_length=100)
    valid_until: date | None = None


class VehicleIn(BaseModel):
    plate: str = Field(min_length=2, max_length=16)
    make: str = Field(min_length=1, max_length=64)
    model: str = Field(min_length=1, max_length=64)
    propulsion: Propulsion
    battery_kwh: float | None = Field(default=None, gt=0)
    tank_l: float | None = Field(default=None, gt=0)
    range_km: float = Field(gt=0)
    seats: int = Field(ge=1, le=9)
    home_site_id: int
    next_inspection_on: date | None = None
    documents: list[DocumentIn] = []


class VehiclePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plate: str | None = Field(default=None, min_length=2, max_length=16)
    make: str | None = Field(default=None, min_length=1, max_length=64)
    model: str | None = Field(default=None, min_length=1, max_length=64)
    battery_kwh: float | None = Field(default=None, gt=0)
    tank_l: float | None = Field(default=None, gt=0)
    range_km: float | None = Field(default=None, gt=0)
    seats: int | None = Field(default=None, ge=1, le=9)
    home_site_id: int | None = None
    next_inspection_on: date | None = None
    documents: list[DocumentIn] | None = None
    state: VehicleState | None = None
    consumption_kwh_per_km: float | None = Field(default=None, gt=0, le=1)
    charging_token_uid: str | None = Field(default=None, min_length=1, max_length=36)


class VehicleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    plate: str
    make: str
    model: str
    propulsion: str
    battery_kwh: float | None
    tank_l: float | None
    range_km: float
    seats: int
    home_site_id: int
    state: str
    next_inspection_on: date | None
    documents: list[dict[str, Any]]
    odometer_km: float
    soc_pct: float | None
    fuel_pct: float | None
    latitude: float | None
    longitude: float | None
    reported_at: datetime
    consumption_kwh_per_km: float | None = None
    charging_token_uid: str | None = None


class CarPositionOut(BaseModel):
    """A car on the fleet map: its unit's latest position (`source: telematics`), else its
    home hub's (`hub`); `unknown` when neither has coordinates (lat and lon null)."""

    model_config = ConfigDict(from_attributes=True)

    vehicle_id: int
    plate: str
    make: str
    model: str
    propulsion: str
    state: str
    site_id: int
    lat: float | None
    lon: float | None
    source: Literal["telematics", "hub", "unknown"]
    reported_at: datetime | None
    soc: float | None = Field(description="Battery level, %, of an electric car.")
    fuel: float | None = Field(description="Tank level, %, of a combustion car.")
    range_km: float
    next_booking_id: int | None
    next_booking_starts_at: datetime | None


class MemberIn(BaseModel):
    driver_id: int
    licence_number: str = Field(min_length=3, max_length=32)
    licence_expires_on: date


class MemberOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    driver_id: int
    licence_number: str
    licence_expires_on: date
    verified_at: datetime | None


class CarBookingIn(BaseModel):
    driver_id: int
    vehicle_id: int
    starts_at: AwareDatetime | None = None  # none: immediate use
    ends_at: AwareDatetime
    # The distance meant to be driven; the car must have the range for it (a default if none).
    planned_km: float | None = Field(default=None, gt=0, le=2000)


class BlockIn(BaseModel):
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    note: str = Field(default="", max_length=255)


class CancelIn(BaseModel):
    note: str = Field(default="", max_length=255)


class FeeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: str
    description: str
    quantity: int
    amount: Decimal
    currency: str


class FeeIn(BaseModel):
    """A fee the operator charges on a returned trip."""

    kind: Literal["cleaning", "damage_franchise"]
    amount: Decimal | None = Field(
        default=None, gt=0, max_digits=12, decimal_places=2,
        description="Excl. VAT. Cleaning: the fixed price when left out; a damage franchise: "
        "required, at most the franchise cap.",
    )  # fmt: skip
    reason: str = Field(min_length=3, max_length=160)
    report_id: int | None = Field(
        default=None, ge=1, le=2**31 - 1,
        description="A damage franchise: the trip's report of the damage, made after the start.",
    )  # fmt: skip


class BookingFeeOut(FeeOut):
    id: int
    booking_id: int
    vat_rate: Decimal | None
    created_at: datetime


class CarBookingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    vehicle_id: int
    driver_id: int | None
    kind: str
    state: str
    starts_at: datetime
    ends_at: datetime
    cancelled_at: datetime | None
    note: str
    planned_km: float | None = None
    fees: list[FeeOut] = []


class PhotoOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    sha256: str
    content_type: str
    size_bytes: int
    filename: str


class ReportOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    booking_id: int
    vehicle_id: int
    phase: Literal["before", "after"]
    damage: Literal["none", "minor", "major"]
    cleanliness: int
    note: str
    created_at: datetime
    photos: list[PhotoOut] = []


class TripOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    booking_id: int
    vehicle_id: int
    driver_id: int
    started_at: datetime
    start_odometer_km: float
    start_soc_pct: float | None
    start_fuel_pct: float | None
    start_latitude: float
    start_longitude: float
    ended_at: datetime | None
    end_odometer_km: float | None
    end_soc_pct: float | None
    end_fuel_pct: float | None
    end_latitude: float | None
    end_longitude: float | None
    distance_km: float | None = None
    booking: CarBookingOut | None = None
    reports: list[ReportOut] = []


class HubV2xIn(BaseModel):
    """The operator's vehicle-to-grid choice for a hub's shared cars."""

    model_config = ConfigDict(extra="forbid")

    consent: bool = Field(description="let the hub's shared cars feed the grid between bookings")
    min_soc_pct: float | None = Field(
        default=None, allow_inf_nan=False,
        description="never below (floor), 0-100 %; none: the default floor",
    )  # fmt: skip


class HubV2xOut(BaseModel):
    site_id: int
    consent: bool
    min_soc_pct: float = Field(description="the floor in force")
    default_floor: bool = Field(description="the floor is the default setting's")
