"""The OCPI 2.2.1 Tariff object and the CDR parts a price is computed from, as pydantic models.

Snake_case on the wire already, as OCPI writes it. Numbers are `Decimal` inside and JSON numbers
outside: OCPI numbers have at most 4 decimals (OCPI 2.2.1 types §16.4), which a double carries
without loss up to 11 integer digits. DateTimes are UTC; one without a designator is UTC
(types §16.2) and they are written with `Z`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _ocpi_datetime(value: datetime) -> str:
    """At most 25 characters, UTC with `Z`, milliseconds when there are any."""
    text = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond // 1000:03d}"
    return text + "Z"


def _date(value: str) -> str:
    date.fromisoformat(value)
    return value


Number = Annotated[
    Decimal,
    Field(allow_inf_nan=False),
    PlainSerializer(float, return_type=float, when_used="json"),
]
NonNegative = Annotated[
    Decimal,
    Field(ge=0, allow_inf_nan=False),
    PlainSerializer(float, return_type=float, when_used="json"),
]
DateTime = Annotated[
    datetime,
    AfterValidator(_utc),
    PlainSerializer(_ocpi_datetime, return_type=str, when_used="json"),
]
CiString2 = Annotated[str, Field(min_length=2, max_length=2, pattern=r"^[ -~]+$")]
CiString3 = Annotated[str, Field(min_length=3, max_length=3, pattern=r"^[ -~]+$")]
CiString36 = Annotated[str, Field(min_length=1, max_length=36, pattern=r"^[ -~]+$")]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["EUR"])]
# OCPI 2.2.1 §11.4.6: times in 24h format with leading zeros, dates as YYYY-MM-DD.
TimeOfDay = Annotated[str, Field(pattern=r"^([0-1][0-9]|2[0-3]):[0-5][0-9]$")]
LocalDate = Annotated[
    str,
    Field(pattern=r"^([12][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"),
    AfterValidator(_date),
]


class OcpiModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DayOfWeek(StrEnum):
    """OCPI 2.2.1 §11.4.1."""

    MONDAY = "MONDAY"
    TUESDAY = "TUESDAY"
    WEDNESDAY = "WEDNESDAY"
    THURSDAY = "THURSDAY"
    FRIDAY = "FRIDAY"
    SATURDAY = "SATURDAY"
    SUNDAY = "SUNDAY"


class ReservationRestrictionType(StrEnum):
    """OCPI 2.2.1 §11.4.3."""

    RESERVATION = "RESERVATION"
    RESERVATION_EXPIRES = "RESERVATION_EXPIRES"


class TariffDimensionType(StrEnum):
    """OCPI 2.2.1 §11.4.5: ENERGY per kWh (step 1 Wh), TIME and PARKING_TIME per hour
    (step 1 s), FLAT once."""

    ENERGY = "ENERGY"
    FLAT = "FLAT"
    PARKING_TIME = "PARKING_TIME"
    TIME = "TIME"


class TariffType(StrEnum):
    """OCPI 2.2.1 §11.4.7."""

    AD_HOC_PAYMENT = "AD_HOC_PAYMENT"
    PROFILE_CHEAP = "PROFILE_CHEAP"
    PROFILE_FAST = "PROFILE_FAST"
    PROFILE_GREEN = "PROFILE_GREEN"
    REGULAR = "REGULAR"


class CdrDimensionType(StrEnum):
    """OCPI 2.2.1 CDRs §10.4.3 (the Session-only ones are accepted and not priced)."""

    CURRENT = "CURRENT"
    ENERGY = "ENERGY"
    ENERGY_EXPORT = "ENERGY_EXPORT"
    ENERGY_IMPORT = "ENERGY_IMPORT"
    MAX_CURRENT = "MAX_CURRENT"
    MIN_CURRENT = "MIN_CURRENT"
    MAX_POWER = "MAX_POWER"
    MIN_POWER = "MIN_POWER"
    PARKING_TIME = "PARKING_TIME"
    POWER = "POWER"
    RESERVATION_TIME = "RESERVATION_TIME"
    STATE_OF_CHARGE = "STATE_OF_CHARGE"
    TIME = "TIME"


class EnergySourceCategory(StrEnum):
    """OCPI 2.2.1 Locations §8.4.8."""

    NUCLEAR = "NUCLEAR"
    GENERAL_FOSSIL = "GENERAL_FOSSIL"
    COAL = "COAL"
    GAS = "GAS"
    GENERAL_GREEN = "GENERAL_GREEN"
    SOLAR = "SOLAR"
    WIND = "WIND"
    WATER = "WATER"


class EnvironmentalImpactCategory(StrEnum):
    """OCPI 2.2.1 Locations §8.4.10."""

    NUCLEAR_WASTE = "NUCLEAR_WASTE"
    CARBON_DIOXIDE = "CARBON_DIOXIDE"


class TokenType(StrEnum):
    """OCPI 2.2.1 Tokens §12.4.3."""

    AD_HOC_USER = "AD_HOC_USER"
    APP_USER = "APP_USER"
    OTHER = "OTHER"
    RFID = "RFID"


class AuthMethod(StrEnum):
    """OCPI 2.2.1 CDRs §10.4.1."""

    AUTH_REQUEST = "AUTH_REQUEST"
    COMMAND = "COMMAND"
    WHITELIST = "WHITELIST"


class Price(OcpiModel):
    """OCPI 2.2.1 types §16.5: incl_vat, when given, is never below excl_vat."""

    excl_vat: NonNegative
    incl_vat: NonNegative | None = None

    @model_validator(mode="after")
    def _vat(self) -> Price:
        if self.incl_vat is not None and self.incl_vat < self.excl_vat:
            raise ValueError("incl_vat is below excl_vat")
        return self


class DisplayText(OcpiModel):
    language: str = Field(pattern=r"^[a-z]{2}$", examples=["en"])
    text: str = Field(max_length=512)


class EnergySource(OcpiModel):
    source: EnergySourceCategory
    percentage: NonNegative = Field(le=100)


class EnvironmentalImpact(OcpiModel):
    category: EnvironmentalImpactCategory
    amount: NonNegative


class EnergyMix(OcpiModel):
    """OCPI 2.2.1 Locations §8.4.6, carried as given."""

    is_green_energy: bool
    energy_sources: list[EnergySource] = []
    environ_impact: list[EnvironmentalImpact] = []
    supplier_name: str | None = Field(default=None, max_length=64)
    energy_product_name: str | None = Field(default=None, max_length=64)


class PriceComponent(OcpiModel):
    """OCPI 2.2.1 §11.4.2. `price` is per unit excl. VAT; `vat` a percentage, absent meaning
    no VAT applies (not 0 %); `step_size` in Wh or seconds (0 bills the exact amount)."""

    type: TariffDimensionType
    price: NonNegative
    vat: NonNegative | None = None
    step_size: int = Field(ge=0)


class TariffRestrictions(OcpiModel):
    """OCPI 2.2.1 §11.4.6: all the properties set must hold (logical AND)."""

    start_time: TimeOfDay | None = None
    end_time: TimeOfDay | None = None
    start_date: LocalDate | None = None
    end_date: LocalDate | None = None
    min_kwh: NonNegative | None = None
    max_kwh: NonNegative | None = None
    min_current: Number | None = None
    max_current: Number | None = None
    min_power: Number | None = None
    max_power: Number | None = None
    min_duration: int | None = Field(default=None, ge=0)
    max_duration: int | None = Field(default=None, ge=0)
    day_of_week: list[DayOfWeek] = []
    reservation: ReservationRestrictionType | None = None


class TariffElement(OcpiModel):
    """OCPI 2.2.1 §11.4.4."""

    price_components: list[PriceComponent] = Field(min_length=1)
    restrictions: TariffRestrictions | None = None


class TariffBody(OcpiModel):
    """A Tariff without the fields its owner assigns (id, country_code, party_id,
    last_updated): what an operator writes."""

    currency: Currency
    type: TariffType | None = None
    tariff_alt_text: list[DisplayText] = []
    tariff_alt_url: str | None = Field(default=None, max_length=255, pattern=r"^https?://")
    min_price: Price | None = None
    max_price: Price | None = None
    elements: list[TariffElement] = Field(min_length=1)
    start_date_time: DateTime | None = None
    end_date_time: DateTime | None = None
    energy_mix: EnergyMix | None = None

    @model_validator(mode="after")
    def _bounds(self) -> TariffBody:
        low, high = self.min_price, self.max_price
        if low is not None and high is not None:
            if low.excl_vat > high.excl_vat:
                raise ValueError("min_price.excl_vat is above max_price.excl_vat")
            if low.incl_vat is not None and high.incl_vat is not None:
                if low.incl_vat > high.incl_vat:
                    raise ValueError("min_price.incl_vat is above max_price.incl_vat")
        start, end = self.start_date_time, self.end_date_time
        if start is not None and end is not None and end <= start:
            raise ValueError("end_date_time must be after start_date_time")
        return self


class Tariff(TariffBody):
    """OCPI 2.2.1 §11.3.1, the Tariff object."""

    country_code: CiString2
    party_id: CiString3
    id: CiString36
    last_updated: DateTime


class TariffToPrice(TariffBody):
    """A Tariff given to price a CDR: the owner's fields are read if present, never needed."""

    country_code: CiString2 | None = None
    party_id: CiString3 | None = None
    id: CiString36 | None = None
    last_updated: DateTime | None = None


class CdrDimension(OcpiModel):
    """OCPI 2.2.1 CDRs §10.4.2."""

    type: CdrDimensionType
    volume: Number


class ChargingPeriod(OcpiModel):
    """OCPI 2.2.1 CDRs §10.4.6: lasts until the next period starts, the last until the CDR
    ends."""

    start_date_time: DateTime
    dimensions: list[CdrDimension] = Field(min_length=1)
    tariff_id: CiString36 | None = None

    @field_validator("dimensions")
    @classmethod
    def _volumes(cls, dimensions: list[CdrDimension]) -> list[CdrDimension]:
        kinds = [d.type for d in dimensions]
        if len(kinds) != len(set(kinds)):
            raise ValueError("a dimension type appears twice in one charging period")
        for d in dimensions:
            if d.type in _NON_NEGATIVE and d.volume < 0:
                raise ValueError(f"{d.type} volume is negative (OCPI tariffs price no discharge)")
        return dimensions


_NON_NEGATIVE = {
    CdrDimensionType.ENERGY,
    CdrDimensionType.TIME,
    CdrDimensionType.PARKING_TIME,
    CdrDimensionType.RESERVATION_TIME,
}


class CdrToken(BaseModel):
    country_code: CiString2
    party_id: CiString3
    uid: CiString36
    type: TokenType
    contract_id: CiString36


class CdrDraft(BaseModel):
    """A CDR (OCPI 2.2.1 §10.3.1) before it is priced: the fields pricing reads are required;
    those assigned when the CDR is issued (ids, location, token, currency, totals) may be absent
    and are checked when present. Totals sent anyway are ignored: pricing computes them."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    start_date_time: DateTime
    end_date_time: DateTime
    charging_periods: list[ChargingPeriod] = Field(min_length=1)
    currency: Currency | None = Field(default=None, description="the tariff's when absent")
    country_code: CiString2 | None = None
    party_id: CiString3 | None = None
    id: str | None = Field(default=None, min_length=1, max_length=39)
    session_id: CiString36 | None = None
    cdr_token: CdrToken | None = None
    auth_method: AuthMethod | None = None
    cdr_location: dict[str, object] | None = None
    tariffs: list[Tariff] = []
    last_updated: DateTime | None = None

    @model_validator(mode="after")
    def _chronology(self) -> CdrDraft:
        if self.end_date_time < self.start_date_time:
            raise ValueError("end_date_time is before start_date_time")
        previous = self.start_date_time
        for n, period in enumerate(self.charging_periods):
            if not previous <= period.start_date_time <= self.end_date_time:
                raise ValueError(
                    f"charging_periods[{n}] starts out of order or outside the CDR's time span"
                )
            previous = period.start_date_time
        return self
