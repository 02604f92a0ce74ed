"""Billing as stored: tariffs (the OCPI 2.2.1 Tariff object as written, beside the fields read
from it), charge detail records, invoices and their numbering."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from evhub.db import Base, UTCDateTime

MONEY = Numeric(14, 4)  # OCPI numbers carry 4 decimals (OCPI 2.2.1 types §16.4)


class TariffRecord(Base):
    """One tariff of this operator. `body` is the whole OCPI object, the truth of its prices;
    the columns beside it are what queries filter and report on."""

    __tablename__ = "tariffs"
    __table_args__ = (
        CheckConstraint("length(currency) = 3", name="currency_iso4217"),
        CheckConstraint(
            "min_price_excl_vat IS NULL OR max_price_excl_vat IS NULL "
            "OR min_price_excl_vat <= max_price_excl_vat",
            name="min_below_max",
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    country_code: Mapped[str] = mapped_column(String(2))
    party_id: Mapped[str] = mapped_column(String(3))
    currency: Mapped[str] = mapped_column(String(3))
    type: Mapped[str | None] = mapped_column(String(16), nullable=True)
    min_price_excl_vat: Mapped[Decimal | None] = mapped_column(MONEY, nullable=True)
    min_price_incl_vat: Mapped[Decimal | None] = mapped_column(MONEY, nullable=True)
    max_price_excl_vat: Mapped[Decimal | None] = mapped_column(MONEY, nullable=True)
    max_price_incl_vat: Mapped[Decimal | None] = mapped_column(MONEY, nullable=True)
    start_date_time: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    end_date_time: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_updated: Mapped[datetime] = mapped_column(UTCDateTime())


QUANTITY = Numeric(14, 4)  # kWh and hours of a CDR, 4 decimals like its amounts
CDR_ONE_PER_TRANSACTION = "uq_cdrs_session_transaction"


class CdrRecord(Base):
    """A charge detail record, never edited (a trigger refuses UPDATE and DELETE): a correction
    is a credit CDR (`credit_of`, negated totals) and a new CDR (`replaces`). `body` is the
    OCPI 2.2.1 CDR object (§10.3.1) as issued, the tariff snapshot within it."""

    __tablename__ = "cdrs"
    __table_args__ = (
        CheckConstraint("length(currency) = 3", name="cdr_currency_iso4217"),
        CheckConstraint("origin IN ('session', 'credit', 'correction')", name="cdr_origin"),
        CheckConstraint("(origin = 'credit') = (credit_of IS NOT NULL)", name="cdr_credit_ref"),
        CheckConstraint("(origin = 'correction') = (replaces IS NOT NULL)", name="cdr_fix_ref"),
        # Exactly one CDR from a transaction's end, whatever the redeliveries.
        Index(
            CDR_ONE_PER_TRANSACTION,
            "transaction_pk",
            unique=True,
            sqlite_where=text("origin = 'session'"),
            postgresql_where=text("origin = 'session'"),
        ),
        Index("ix_cdrs_driver_end", "driver_id", "end_date_time"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ocpi_id: Mapped[str] = mapped_column(String(39), unique=True)
    origin: Mapped[str] = mapped_column(String(16))
    transaction_pk: Mapped[int] = mapped_column(
        ForeignKey("transactions.id", ondelete="RESTRICT"), index=True
    )
    credit_of: Mapped[int | None] = mapped_column(
        ForeignKey("cdrs.id", ondelete="RESTRICT"), nullable=True, unique=True
    )
    replaces: Mapped[int | None] = mapped_column(
        ForeignKey("cdrs.id", ondelete="RESTRICT"), nullable=True, unique=True
    )
    driver_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    token_uid: Mapped[str | None] = mapped_column(String(36), nullable=True)
    site_id: Mapped[int] = mapped_column(Integer)
    station_id: Mapped[str] = mapped_column(String(48))
    evse_id: Mapped[int] = mapped_column(Integer)
    tariff_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    start_date_time: Mapped[datetime] = mapped_column(UTCDateTime())
    end_date_time: Mapped[datetime] = mapped_column(UTCDateTime())
    currency: Mapped[str] = mapped_column(String(3))
    total_excl_vat: Mapped[Decimal] = mapped_column(MONEY)
    total_incl_vat: Mapped[Decimal] = mapped_column(MONEY)
    total_energy_kwh: Mapped[Decimal] = mapped_column(QUANTITY)
    total_time_h: Mapped[Decimal] = mapped_column(QUANTITY)
    total_parking_time_h: Mapped[Decimal] = mapped_column(QUANTITY)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    signed_data: Mapped[str | None] = mapped_column(Text, nullable=True)
    signed_public_key: Mapped[str | None] = mapped_column(Text, nullable=True)
    signature_valid: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    reason: Mapped[str] = mapped_column(String(255), default="")
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())


class InvoiceCounter(Base):
    """The last number given per issuing company and year: locked and moved in the transaction
    that issues the invoice, so numbers have no gap (French Code de commerce R123-237)."""

    __tablename__ = "invoice_counters"

    company_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class InvoiceRecord(Base):
    """An issued invoice, never edited (triggers refuse UPDATE and DELETE)."""

    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("company_id", "year", "sequence", name="uq_invoices_company_id"),
        UniqueConstraint(
            "company_id", "driver_id", "month", name="uq_invoices_company_id_driver_id"
        ),
        CheckConstraint("length(currency) = 3", name="invoice_currency_iso4217"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    company_id: Mapped[str] = mapped_column(String(20))
    year: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer)
    month: Mapped[str] = mapped_column(String(7))
    driver_id: Mapped[int] = mapped_column(ForeignKey("drivers.id", ondelete="RESTRICT"))
    customer_name: Mapped[str] = mapped_column(String(200))
    business: Mapped[bool] = mapped_column(Boolean, default=False)
    currency: Mapped[str] = mapped_column(String(3))
    total_excl_vat: Mapped[Decimal] = mapped_column(MONEY)
    total_vat: Mapped[Decimal] = mapped_column(MONEY)
    total_incl_vat: Mapped[Decimal] = mapped_column(MONEY)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    pdf: Mapped[bytes] = mapped_column(LargeBinary)


class InvoiceLineRecord(Base):
    """One line of an invoice. (source, source_ref) is unique: a fee, a plan month or a CDR is
    billed once, whatever run or retry issues it."""

    __tablename__ = "invoice_lines"
    __table_args__ = (
        UniqueConstraint("source", "source_ref", name="uq_invoice_lines_source"),
        UniqueConstraint("invoice_id", "position", name="uq_invoice_lines_invoice_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id", ondelete="RESTRICT"))
    position: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(24))
    source_ref: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(255))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    unit: Mapped[str] = mapped_column(String(8))
    amount_excl_vat: Mapped[Decimal] = mapped_column(MONEY)
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    vat_amount: Mapped[Decimal] = mapped_column(MONEY)
    amount_incl_vat: Mapped[Decimal] = mapped_column(MONEY)
