"""REST and command-line shapes of billing: priced totals, CDRs, invoices (the tariffs
themselves are the OCPI models of `billing.tariff`)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from evhub.billing.pricing import Cost, Costs
from evhub.billing.tariff import NonNegative


class PriceOut(BaseModel):
    """OCPI 2.2.1 types §16.5, both amounts always given."""

    excl_vat: NonNegative
    incl_vat: NonNegative

    @classmethod
    def of(cls, cost: Cost) -> PriceOut:
        return cls(excl_vat=cost.excl_vat, incl_vat=cost.incl_vat)


class CostsOut(BaseModel):
    """The totals of a CDR (OCPI 2.2.1 §10.3.1): energy in kWh, times in hours."""

    total_cost: PriceOut
    total_energy_cost: PriceOut
    total_time_cost: PriceOut
    total_parking_cost: PriceOut
    total_fixed_cost: PriceOut
    total_reservation_cost: PriceOut
    total_energy: NonNegative
    total_time: NonNegative
    total_parking_time: NonNegative

    @classmethod
    def of(cls, costs: Costs) -> CostsOut:
        return cls(
            total_cost=PriceOut.of(costs.total_cost),
            total_energy_cost=PriceOut.of(costs.total_energy_cost),
            total_time_cost=PriceOut.of(costs.total_time_cost),
            total_parking_cost=PriceOut.of(costs.total_parking_cost),
            total_fixed_cost=PriceOut.of(costs.total_fixed_cost),
            total_reservation_cost=PriceOut.of(costs.total_reservation_cost),
            total_energy=costs.total_energy,
            total_time=costs.total_time,
            total_parking_time=costs.total_parking_time,
        )


class CdrOut(BaseModel):
    """A charge detail record as stored; `body` is the OCPI 2.2.1 CDR object (§10.3.1)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    ocpi_id: str
    origin: str = Field(description="session, credit (of `credit_of`) or correction")
    transaction_pk: int
    credit_of: int | None
    replaces: int | None
    driver_id: int | None
    token_uid: str | None
    site_id: int
    station_id: str
    evse_id: int
    tariff_id: str | None
    start_date_time: datetime
    end_date_time: datetime
    currency: str
    total_excl_vat: Decimal
    total_incl_vat: Decimal
    total_energy_kwh: Decimal
    total_time_h: Decimal
    total_parking_time_h: Decimal
    signature_valid: bool | None = Field(
        description="The signed meter data verified (OCMF); null: none, or no key to check it"
    )
    reason: str
    issued_at: datetime
    body: dict[str, Any]


class CorrectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=255)
    tariff_id: str | None = Field(default=None, min_length=1, max_length=36, pattern=r"^[ -~]+$")
    energy_wh: int | None = Field(default=None, ge=0, le=10**9)


class CorrectionOut(BaseModel):
    credit: CdrOut
    correction: CdrOut


class InvoiceLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    position: int
    source: str
    source_ref: str
    description: str
    quantity: Decimal
    unit: str
    amount_excl_vat: Decimal
    vat_rate: Decimal
    vat_amount: Decimal
    amount_incl_vat: Decimal


class InvoiceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    number: str
    month: str
    driver_id: int
    customer_name: str
    business: bool = Field(description="A fleet customer: the PDF is Factur-X (BASIC)")
    currency: str
    total_excl_vat: Decimal
    total_vat: Decimal
    total_incl_vat: Decimal
    issued_at: datetime
    lines: list[InvoiceLineOut] = []
