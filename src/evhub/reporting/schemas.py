"""Inputs and outputs of the open-data descriptions; the enums are the IRVE v2.3.0 ones."""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from evhub.errors import InvalidInput
from evhub.reporting.identity import check_afirev_id, check_siren

Implantation = Literal[
    "Voirie",
    "Parking public",
    "Parking privé à usage public",
    "Parking privé réservé à la clientèle",
    "Station dédiée à la recharge rapide",
]
Accessibility = Literal[
    "Réservé PMR", "Accessible mais non réservé PMR", "Non accessible", "Accessibilité inconnue"
]
AccessCondition = Literal["Accès libre", "Accès réservé"]
GridConnection = Literal["Direct", "Indirect"]
# schema-irve v2.3.0, horaires: "24/7" or OSM-like ranges "Mo-Fr 08:00-12:00,Sa 09:00-12:00".
HOURS_RE = re.compile(r"(.*?)((\d{1,2}:\d{2})-(\d{1,2}:\d{2})|24/7)")
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class OperatorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    afirev_operator_id: str = Field(pattern=r"^[A-Z0-9]{3}$")
    operator_name: str = Field(min_length=1, max_length=200)
    operator_email: str = Field(pattern=EMAIL, max_length=254)
    operator_phone: str | None = Field(default=None, max_length=32)
    installer_name: str = Field(min_length=1, max_length=200)
    installer_siren: str
    installer_email: str = Field(pattern=EMAIL, max_length=254)
    brand: str = Field(min_length=1, max_length=200)

    @field_validator("installer_siren")
    @classmethod
    def _siren(cls, value: str) -> str:
        try:
            return check_siren(value)
        except InvalidInput as exc:
            raise ValueError(exc.message) from exc


class OperatorOut(OperatorIn):
    model_config = ConfigDict(from_attributes=True)


class SiteOpenDataIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    station_code: str | None = Field(
        default=None,
        pattern=r"^[A-Z0-9]{1,30}$",
        description="The part after FR*XXX*P of the station's AFIREV id; default: the site id.",
    )
    insee_code: str = Field(pattern=r"^([013-9]\d|2[AB1-9])\d{3}$")
    implantation: Implantation
    opening_hours: str = Field(min_length=4, max_length=300)
    accessibility_pmr: Accessibility
    access_condition: AccessCondition = "Accès libre"
    gauge_restriction: str = Field(min_length=1, max_length=200)
    two_wheelers: bool = False
    grid_connection: GridConnection
    delivery_point: str | None = Field(default=None, pattern=r"^\d{14}$")
    commissioned_on: date
    observations: str | None = Field(default=None, max_length=2000)

    @field_validator("opening_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        if not HOURS_RE.match(value):
            raise ValueError('opening hours are "24/7" or like "Mo-Fr 08:00-19:00"')
        return value


class SiteOpenDataOut(SiteOpenDataIn):
    model_config = ConfigDict(from_attributes=True)

    site_id: int


class PointOpenDataIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    afirev_id: str | None = Field(
        default=None, description="FR*XXX*E...; default: built from the site, station and EVSE."
    )
    free_of_charge: bool = False
    pay_per_use: bool
    pay_by_card: bool
    pay_other: bool
    tariff: str | None = Field(default=None, max_length=500)
    bookable: bool
    t2_cable_attached: bool | None = None

    @field_validator("afirev_id")
    @classmethod
    def _afirev(cls, value: str | None) -> str | None:
        try:
            return None if value is None else check_afirev_id(value, "E")
        except InvalidInput as exc:
            raise ValueError(exc.message) from exc


class PointOpenDataOut(PointOpenDataIn):
    model_config = ConfigDict(from_attributes=True)

    station_id: str
    evse_id: int


class MissingItem(BaseModel):
    """What an IRVE export still lacks, for one scope (network, site or point)."""

    scope: str
    missing: list[str]
