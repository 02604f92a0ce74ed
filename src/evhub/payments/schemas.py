"""Payments API input and output; amounts are decimal strings beside their currency."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from evhub.params import DbId

PaymentStatus = Literal[
    "authorising", "authorised", "declined", "captured", "capture_failed", "cancelled",
    "partially_refunded", "refunded", "submitted", "returned",
]  # fmt: skip
Amount = Decimal


class MandateIn(BaseModel):
    driver_id: DbId
    debtor_name: str = Field(min_length=1, max_length=70)
    iban: str = Field(min_length=15, max_length=42, description="Spaces allowed.")
    bic: str | None = Field(default=None, min_length=8, max_length=11)
    signed_on: date
    reference: str | None = Field(
        default=None, min_length=1, max_length=35, description="Numbered by evhub if omitted."
    )


class MandateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    reference: str
    driver_id: int
    debtor_name: str
    iban: str
    bic: str
    signed_on: date
    status: Literal["active", "revoked"]
    created_at: datetime


class OperationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    idempotency_key: str
    kind: Literal["authorise", "capture", "cancel", "refund"]
    amount: Decimal
    currency: str
    status: Literal["pending", "succeeded", "declined"]
    provider_ref: str | None
    reason: str | None
    created_at: datetime
    completed_at: datetime | None


class PaymentOut(BaseModel):
    """A card payment (`authorising` → `authorised` | `declined`; `authorised` → `captured` |
    `capture_failed` | `cancelled`; `captured` → `partially_refunded` | `refunded`) or a direct
    debit (`submitted` → `returned`)."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    driver_id: int
    method: Literal["card", "sepa"]
    status: PaymentStatus
    currency: str
    authorised_amount: Decimal
    captured_amount: Decimal
    refunded_amount: Decimal
    transaction_id: int | None
    mandate_id: int | None
    month: str | None
    sequence_type: Literal["FRST", "RCUR"] | None
    end_to_end_id: str | None
    failure_reason: str | None
    created_at: datetime
    updated_at: datetime


class RefundIn(BaseModel):
    amount: Decimal = Field(gt=0, max_digits=12, decimal_places=2)


class SettlementIn(BaseModel):
    provider_ref: str = Field(min_length=1, max_length=64)
    amount: Decimal = Field(max_digits=12, decimal_places=2)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    settled_on: date


class SettlementsIn(BaseModel):
    lines: list[SettlementIn] = Field(max_length=10000)


class SettlementsOut(BaseModel):
    recorded: int


class ReturnIn(BaseModel):
    end_to_end_id: str = Field(min_length=1, max_length=35)
    reason_code: str = Field(pattern=r"^[A-Z0-9]{4}$", description="ISO 20022, e.g. AM04, MD01.")


class ReconciliationLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    payment_id: int
    driver_id: int
    method: str
    status: str
    currency: str
    transaction_id: int | None
    invoiced: Decimal
    captured: Decimal
    settled: Decimal
    differences: list[str]


class OpenBalanceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    driver_id: int
    currency: str
    balance: Decimal


class ReconciliationOut(BaseModel):
    month: str
    invoiced: Decimal
    captured: Decimal
    settled: Decimal
    lines: list[ReconciliationLineOut]
    open_balances: list[OpenBalanceOut]
