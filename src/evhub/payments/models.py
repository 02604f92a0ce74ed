"""Payments, the provider operations behind them, SEPA mandates, CDRs charged, settlements.

A provider operation is stored before it is sent, under an idempotency key that is unique in
the database: a retry reuses the key, so the provider moves the money once, and the stored
result answers any retried request.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from evhub.db import Base, UTCDateTime

MONEY = Numeric(14, 2)
PAYMENT_STATUSES = (
    "authorising", "authorised", "declined", "captured", "capture_failed", "cancelled",
    "partially_refunded", "refunded", "submitted", "returned",
)  # fmt: skip


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


CDR_MONEY = Numeric(14, 4)  # CDR totals as issued (OCPI 2.2.1 numbers carry 4 decimals)


class Payment(Base):
    """One payment of a driver: a card authorisation with its captures and refunds for a
    charging session, or one SEPA direct debit of a month."""

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("method", "transaction_id"),
        UniqueConstraint("mandate_id", "month"),
        CheckConstraint("method IN ('card', 'sepa')", name="method_known"),
        CheckConstraint(f"status IN ({_quoted(PAYMENT_STATUSES)})", name="status_known"),
        CheckConstraint("length(currency) = 3", name="currency_iso4217"),
        CheckConstraint(
            "captured_amount <= authorised_amount OR method = 'sepa'", name="captured_authorised"
        ),
        CheckConstraint("refunded_amount <= captured_amount", name="refunded_captured"),
        Index("ix_payments_driver_created", "driver_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    driver_id: Mapped[int] = mapped_column(ForeignKey("drivers.id", ondelete="RESTRICT"))
    method: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(24))
    currency: Mapped[str] = mapped_column(String(3))
    authorised_amount: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    captured_amount: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    refunded_amount: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    # card: the charging transaction (evhub's id) and the acquirer's authorisation
    transaction_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    provider_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # sepa: the mandate, the month collected (YYYY-MM), its sequence type and end-to-end id
    mandate_id: Mapped[int | None] = mapped_column(
        ForeignKey("sepa_mandates.id", ondelete="RESTRICT"), nullable=True
    )
    month: Mapped[str | None] = mapped_column(String(7), nullable=True)
    sequence_type: Mapped[str | None] = mapped_column(String(4), nullable=True)
    end_to_end_id: Mapped[str | None] = mapped_column(String(35), nullable=True, unique=True)
    failure_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PaymentOperation(Base):
    """One call to the provider: recorded (pending) before it is made, completed after."""

    __tablename__ = "payment_operations"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint("kind IN ('authorise', 'capture', 'cancel', 'refund')", name="kind_known"),
        Index("ix_payment_operations_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    provider_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # the CDR this operation settles (captures and refunds driven by a CDR)
    cdr_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class SepaMandate(Base):
    """A driver's SEPA Core direct debit mandate (SEPA SDD Core Rulebook §4.7.2)."""

    __tablename__ = "sepa_mandates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(35), unique=True)
    driver_id: Mapped[int] = mapped_column(
        ForeignKey("drivers.id", ondelete="RESTRICT"), index=True
    )
    debtor_name: Mapped[str] = mapped_column(String(70))
    iban: Mapped[str] = mapped_column(String(34))
    bic: Mapped[str] = mapped_column(String(11))
    signed_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ChargedCdr(Base):
    """A CDR as the payments domain received it (`cdr.issued`): what was invoiced."""

    __tablename__ = "payment_cdrs"

    cdr_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    transaction_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    driver_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    total_incl_vat: Mapped[Decimal] = mapped_column(CDR_MONEY)
    total_excl_vat: Mapped[Decimal] = mapped_column(CDR_MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    credit_of: Mapped[str | None] = mapped_column(String(64), nullable=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class Settlement(Base):
    """Money an acquirer paid out to the bank for one capture (its settlement report)."""

    __tablename__ = "payment_settlements"
    __table_args__ = (CheckConstraint("length(currency) = 3", name="currency_iso4217"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider_ref: Mapped[str] = mapped_column(String(64), unique=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    settled_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
