"""cdrs and invoices: charge detail records, signed meter values, invoices, their numbering

Revision ID: 0017
Revises: 0020
Create Date: 2026-12-01 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import evhub.db

revision: str = "0017"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(14, 4)
QUANTITY = sa.Numeric(14, 4)
# Documents never edited once written: corrections are new documents (credit notes).
IMMUTABLE = ("cdrs", "invoices", "invoice_lines")


def upgrade() -> None:
    _signed_meter_values()
    _cdrs()
    _invoices()
    _immutable(op.get_bind().dialect.name)


def _signed_meter_values() -> None:
    op.create_table(
        "signed_meter_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transaction_pk", sa.Integer(), nullable=False),
        sa.Column("timestamp", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("context", sa.String(length=24), nullable=False),
        sa.Column("signing_method", sa.String(length=50), nullable=False),
        sa.Column("encoding_method", sa.String(length=50), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("data_hash", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["transaction_pk"],
            ["transactions.id"],
            name=op.f("fk_signed_meter_values_transaction_pk_transactions"),
            ondelete="CASCADE",
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signed_meter_values")),
        sa.UniqueConstraint(
            "transaction_pk",
            "timestamp",
            "context",
            "data_hash",
            name=op.f("uq_signed_meter_values_transaction_pk"),
        ),  # fmt: skip
    )
    op.create_index(
        op.f("ix_signed_meter_values_transaction_pk"), "signed_meter_values", ["transaction_pk"]
    )


def _cdrs() -> None:
    op.create_table(
        "cdrs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ocpi_id", sa.String(length=39), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("transaction_pk", sa.Integer(), nullable=False),
        sa.Column("credit_of", sa.Integer(), nullable=True),
        sa.Column("replaces", sa.Integer(), nullable=True),
        sa.Column("driver_id", sa.Integer(), nullable=True),
        sa.Column("token_uid", sa.String(length=36), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.String(length=48), nullable=False),
        sa.Column("evse_id", sa.Integer(), nullable=False),
        sa.Column("tariff_id", sa.String(length=36), nullable=True),
        sa.Column("start_date_time", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("end_date_time", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_excl_vat", MONEY, nullable=False),
        sa.Column("total_incl_vat", MONEY, nullable=False),
        sa.Column("total_energy_kwh", QUANTITY, nullable=False),
        sa.Column("total_time_h", QUANTITY, nullable=False),
        sa.Column("total_parking_time_h", QUANTITY, nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("signed_data", sa.Text(), nullable=True),
        sa.Column("signed_public_key", sa.Text(), nullable=True),
        sa.Column("signature_valid", sa.Boolean(), nullable=True),
        sa.Column("reason", sa.String(length=255), nullable=False),
        sa.Column("issued_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(currency) = 3", name=op.f("ck_cdrs_cdr_currency_iso4217")),
        sa.CheckConstraint(
            "origin IN ('session', 'credit', 'correction')", name=op.f("ck_cdrs_cdr_origin")
        ),
        sa.CheckConstraint(
            "(origin = 'credit') = (credit_of IS NOT NULL)", name=op.f("ck_cdrs_cdr_credit_ref")
        ),
        sa.CheckConstraint(
            "(origin = 'correction') = (replaces IS NOT NULL)", name=op.f("ck_cdrs_cdr_fix_ref")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_pk"],
            ["transactions.id"],
            name=op.f("fk_cdrs_transaction_pk_transactions"),
            ondelete="RESTRICT",
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["credit_of"], ["cdrs.id"], name=op.f("fk_cdrs_credit_of_cdrs"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["replaces"], ["cdrs.id"], name=op.f("fk_cdrs_replaces_cdrs"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cdrs")),
        sa.UniqueConstraint("ocpi_id", name=op.f("uq_cdrs_ocpi_id")),
        sa.UniqueConstraint("credit_of", name=op.f("uq_cdrs_credit_of")),
        sa.UniqueConstraint("replaces", name=op.f("uq_cdrs_replaces")),
    )
    op.create_index(op.f("ix_cdrs_transaction_pk"), "cdrs", ["transaction_pk"])
    op.create_index("ix_cdrs_driver_end", "cdrs", ["driver_id", "end_date_time"])
    op.create_index(
        "uq_cdrs_session_transaction",
        "cdrs",
        ["transaction_pk"],
        unique=True,
        sqlite_where=sa.text("origin = 'session'"),
        postgresql_where=sa.text("origin = 'session'"),
    )


def _invoices() -> None:
    op.create_table(
        "invoice_counters",
        sa.Column("company_id", sa.String(length=20), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("company_id", "year", name=op.f("pk_invoice_counters")),
    )
    op.create_table(
        "invoices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("company_id", sa.String(length=20), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("driver_id", sa.Integer(), nullable=False),
        sa.Column("customer_name", sa.String(length=200), nullable=False),
        sa.Column("business", sa.Boolean(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_excl_vat", MONEY, nullable=False),
        sa.Column("total_vat", MONEY, nullable=False),
        sa.Column("total_incl_vat", MONEY, nullable=False),
        sa.Column("issued_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint(
            "length(currency) = 3", name=op.f("ck_invoices_invoice_currency_iso4217")
        ),
        sa.ForeignKeyConstraint(
            ["driver_id"],
            ["drivers.id"],
            name=op.f("fk_invoices_driver_id_drivers"),
            ondelete="RESTRICT",
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("number", name=op.f("uq_invoices_number")),
        sa.UniqueConstraint("company_id", "year", "sequence", name=op.f("uq_invoices_company_id")),
        sa.UniqueConstraint(
            "company_id", "driver_id", "month", name=op.f("uq_invoices_company_id_driver_id")
        ),
    )
    op.create_table(
        "invoice_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=24), nullable=False),
        sa.Column("source_ref", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("quantity", QUANTITY, nullable=False),
        sa.Column("unit", sa.String(length=8), nullable=False),
        sa.Column("amount_excl_vat", MONEY, nullable=False),
        sa.Column("vat_rate", sa.Numeric(5, 2), nullable=False),
        sa.Column("vat_amount", MONEY, nullable=False),
        sa.Column("amount_incl_vat", MONEY, nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_invoice_lines_invoice_id_invoices"),
            ondelete="RESTRICT",
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_lines")),
        sa.UniqueConstraint("source", "source_ref", name=op.f("uq_invoice_lines_source")),
        sa.UniqueConstraint("invoice_id", "position", name=op.f("uq_invoice_lines_invoice_id")),
    )


def _immutable(dialect: str) -> None:
    """UPDATE and DELETE of an issued document fail in the database itself."""
    if dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION evhub_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME "
            "USING ERRCODE = 'restrict_violation'; END $$"
        )
        for table in IMMUTABLE:
            op.execute(
                f"CREATE TRIGGER tr_{table}_immutable BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION evhub_refuse_change()"
            )
        return
    for table in IMMUTABLE:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER tr_{table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} rows are immutable'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in IMMUTABLE:
            op.execute(f"DROP TRIGGER IF EXISTS tr_{table}_immutable ON {table}")
        op.execute("DROP FUNCTION IF EXISTS evhub_refuse_change()")
    op.drop_table("invoice_lines")
    op.drop_table("invoices")
    op.drop_table("invoice_counters")
    op.drop_index("uq_cdrs_session_transaction", table_name="cdrs")
    op.drop_index("ix_cdrs_driver_end", table_name="cdrs")
    op.drop_index(op.f("ix_cdrs_transaction_pk"), table_name="cdrs")
    op.drop_table("cdrs")
    op.drop_index(op.f("ix_signed_meter_values_transaction_pk"), table_name="signed_meter_values")
    op.drop_table("signed_meter_values")
