"""REST shapes of driver self-service, plans, the vehicle catalogue, passes and orders."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from evhub.params import DbId

Email = str
# The WHATWG "valid e-mail address" (HTML's <input type=email>), with a dot in the domain:
# ASCII only, so that no control character nor lone surrogate reaches the database or a mail.
EMAIL_PATTERN = (
    r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+$"
)
EMAIL = Field(max_length=254, pattern=EMAIL_PATTERN, examples=["ada@example.org"])
PASSWORD = Field(min_length=8, max_length=200)
LINK_TOKEN = Field(min_length=1, max_length=200)
# ISO 3779: 17 characters, no I, O or Q.
VIN = Field(default=None, pattern=r"^[A-HJ-NPR-Z0-9]{17}$")
PLATE = Field(default=None, min_length=1, max_length=16, pattern=r"^[A-Za-z0-9 \-]+$")


class SignUpIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    email: Email = EMAIL
    password: str = PASSWORD


class PlanOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    code: str
    name: str
    user_group: str
    monthly_fee: Decimal = Field(description="Excl. VAT, per month.")
    currency: str
    vat_rate: Decimal = Field(description="A fraction: 0.2 is 20 %.")
    tariff_id: str | None = Field(description="None: the site's public tariff prices charges.")
    carsharing: bool = Field(description="Whether the plan's drivers may book shared cars.")


class PlanPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    monthly_fee: Decimal | None = Field(default=None, ge=0, max_digits=10, decimal_places=2)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    vat_rate: Decimal | None = Field(default=None, ge=0, lt=1, max_digits=5, decimal_places=4)
    tariff_id: str | None = Field(default=None, min_length=1, max_length=36)
    carsharing: bool | None = None


class AccountOut(BaseModel):
    id: int
    name: str
    email: str | None
    email_verified: bool
    user_group: str
    plan: PlanOut | None
    contract_id: str | None


class VerifyIn(BaseModel):
    token: str = LINK_TOKEN


class SignInIn(BaseModel):
    email: Email = EMAIL
    password: str = Field(min_length=1, max_length=200)


class SessionOut(BaseModel):
    token: str = Field(description="Send it as 'Authorization: Bearer TOKEN'.")
    expires_at: datetime


class ResetIn(BaseModel):
    email: Email = EMAIL


class PasswordIn(BaseModel):
    token: str = LINK_TOKEN
    password: str = PASSWORD


class PlanChoice(BaseModel):
    plan: str = Field(min_length=1, max_length=32, examples=["resident-night"])


class VehicleModelOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    make: str
    model: str
    battery_kwh: float
    ac_max_kw: float
    dc_max_kw: float | None


class VehicleIn(BaseModel):
    model_id: DbId
    plate: str | None = PLATE
    vin: str | None = VIN


class VehicleOut(BaseModel):
    id: int
    model: VehicleModelOut
    plate: str | None
    vin: str | None
    created_at: datetime


class DriverTokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    uid: str
    type: str
    status: str
    contract_id: str | None
    blocked_by: str | None


class DriverTokenPatch(BaseModel):
    status: Literal["Accepted", "Blocked"]


class CardOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    driver_id: int
    state: str
    requested_at: datetime
    posted_at: datetime | None


class CardPosted(BaseModel):
    uid: str = Field(min_length=1, max_length=36, pattern=r"^[A-Za-z0-9._:\-]+$")


class Buyer(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    email: Email = EMAIL


class OrderVehicle(BaseModel):
    model_id: DbId = Field(description="A model of GET /api/v1/accounts/vehicle-models.")
    vin: str | None = VIN
    plate: str | None = PLATE


class OrderIn(BaseModel):
    reference: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:\-]+$")
    plan: str = Field(min_length=1, max_length=32, examples=["resident-night"])
    buyer: Buyer
    vehicle: OrderVehicle
    rfid_card: bool = True


class OrderCard(BaseModel):
    id: int
    state: str


class OrderOut(BaseModel):
    reference: str
    driver_id: int
    account_created: bool
    plan: str
    vehicle_id: int
    contract_id: str
    app_token_uid: str
    card: OrderCard | None
    created_at: datetime
