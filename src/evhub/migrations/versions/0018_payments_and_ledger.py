"""payments and ledger: card payments and their provider operations, SEPA mandates and
collections, CDRs as charged, acquirer settlements, and a double-entry journal whose entries
the database keeps balanced and unchanged

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import evhub.db

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "journal_entries",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("source_ref", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("posted_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_entries")),
        sa.UniqueConstraint("source_ref", name=op.f("uq_journal_entries_source_ref")),
    )
    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_journal_entries_posted_at"), ["posted_at"], unique=False
        )

    op.create_table(
        "payment_cdrs",
        sa.Column("cdr_id", sa.String(length=64), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=True),
        sa.Column("driver_id", sa.Integer(), nullable=True),
        sa.Column("total_incl_vat", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("total_excl_vat", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("credit_of", sa.String(length=64), nullable=True),
        sa.Column("issued_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("cdr_id", name=op.f("pk_payment_cdrs")),
    )
    with op.batch_alter_table("payment_cdrs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_cdrs_driver_id"), ["driver_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payment_cdrs_issued_at"), ["issued_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_payment_cdrs_transaction_id"), ["transaction_id"], unique=False
        )

    op.create_table(
        "payment_settlements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_ref", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("settled_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "length(currency) = 3", name=op.f("ck_payment_settlements_currency_iso4217")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_settlements")),
        sa.UniqueConstraint("provider_ref", name=op.f("uq_payment_settlements_provider_ref")),
    )
    op.create_table(
        "journal_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.String(length=32), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("debit", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("credit", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.CheckConstraint("(debit = 0) <> (credit = 0)", name=op.f("ck_journal_lines_one_side")),
        sa.CheckConstraint(
            "debit >= 0 AND credit >= 0", name=op.f("ck_journal_lines_not_negative")
        ),
        sa.CheckConstraint("length(currency) = 3", name=op.f("ck_journal_lines_currency_iso4217")),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["journal_entries.id"],
            name=op.f("fk_journal_lines_entry_id_journal_entries"),
            initially="DEFERRED",
            deferrable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_lines")),
    )
    with op.batch_alter_table("journal_lines", schema=None) as batch_op:
        batch_op.create_index(
            "ix_journal_lines_account_currency", ["account", "currency"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_journal_lines_entry_id"), ["entry_id"], unique=False)

    op.create_table(
        "sepa_mandates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=35), nullable=False),
        sa.Column("driver_id", sa.Integer(), nullable=False),
        sa.Column("debtor_name", sa.String(length=70), nullable=False),
        sa.Column("iban", sa.String(length=34), nullable=False),
        sa.Column("bic", sa.String(length=11), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["driver_id"],
            ["drivers.id"],
            name=op.f("fk_sepa_mandates_driver_id_drivers"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sepa_mandates")),
        sa.UniqueConstraint("reference", name=op.f("uq_sepa_mandates_reference")),
    )
    with op.batch_alter_table("sepa_mandates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sepa_mandates_driver_id"), ["driver_id"], unique=False)

    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("driver_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("authorised_amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("captured_amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("refunded_amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=True),
        sa.Column("provider_ref", sa.String(length=64), nullable=True),
        sa.Column("mandate_id", sa.Integer(), nullable=True),
        sa.Column("month", sa.String(length=7), nullable=True),
        sa.Column("sequence_type", sa.String(length=4), nullable=True),
        sa.Column("end_to_end_id", sa.String(length=35), nullable=True),
        sa.Column("failure_reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "captured_amount <= authorised_amount OR method = 'sepa'",
            name=op.f("ck_payments_captured_authorised"),
        ),
        sa.CheckConstraint("method IN ('card', 'sepa')", name=op.f("ck_payments_method_known")),
        sa.CheckConstraint(
            "status IN ('authorising', 'authorised', 'declined', 'captured', 'capture_failed', "
            "'cancelled', 'partially_refunded', 'refunded', 'submitted', 'returned')",
            name=op.f("ck_payments_status_known"),
        ),
        sa.CheckConstraint("length(currency) = 3", name=op.f("ck_payments_currency_iso4217")),
        sa.CheckConstraint(
            "refunded_amount <= captured_amount", name=op.f("ck_payments_refunded_captured")
        ),
        sa.ForeignKeyConstraint(
            ["driver_id"],
            ["drivers.id"],
            name=op.f("fk_payments_driver_id_drivers"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["mandate_id"],
            ["sepa_mandates.id"],
            name=op.f("fk_payments_mandate_id_sepa_mandates"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("end_to_end_id", name=op.f("uq_payments_end_to_end_id")),
        sa.UniqueConstraint("mandate_id", "month", name=op.f("uq_payments_mandate_id_month")),
        sa.UniqueConstraint(
            "method", "transaction_id", name=op.f("uq_payments_method_transaction_id")
        ),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_payments_driver_created", ["driver_id", "created_at"], unique=False
        )

    op.create_table(
        "payment_operations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=80), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("provider_ref", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("cdr_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", evhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('authorise', 'capture', 'cancel', 'refund')",
            name=op.f("ck_payment_operations_kind_known"),
        ),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_payment_operations_amount_not_negative")),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name=op.f("fk_payment_operations_payment_id_payments"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_operations")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_payment_operations_idempotency_key")),
    )
    with op.batch_alter_table("payment_operations", schema=None) as batch_op:
        batch_op.create_index("ix_payment_operations_status", ["status"], unique=False)

    for statement in _TRIGGERS[op.get_bind().dialect.name]:
        op.execute(statement)


def downgrade() -> None:
    for statement in _DROP_TRIGGERS[op.get_bind().dialect.name]:
        op.execute(statement)
    with op.batch_alter_table("payment_operations", schema=None) as batch_op:
        batch_op.drop_index("ix_payment_operations_status")

    op.drop_table("payment_operations")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index("ix_payments_driver_created")

    op.drop_table("payments")
    with op.batch_alter_table("sepa_mandates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sepa_mandates_driver_id"))

    op.drop_table("sepa_mandates")
    with op.batch_alter_table("journal_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journal_lines_entry_id"))
        batch_op.drop_index("ix_journal_lines_account_currency")

    op.drop_table("journal_lines")
    op.drop_table("payment_settlements")
    with op.batch_alter_table("payment_cdrs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_cdrs_transaction_id"))
        batch_op.drop_index(batch_op.f("ix_payment_cdrs_issued_at"))
        batch_op.drop_index(batch_op.f("ix_payment_cdrs_driver_id"))

    op.drop_table("payment_cdrs")
    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journal_entries_posted_at"))

    op.drop_table("journal_entries")


# An entry is written after its lines: it is accepted only if they exist and balance in each
# currency; a line cannot join an entry already written; nothing is changed or deleted.
# (SQLite sums NUMERIC as floating point: cents compare within half a hundredth of a cent.)
_SQLITE = [
    """CREATE TRIGGER journal_entry_balanced BEFORE INSERT ON journal_entries
    WHEN NOT EXISTS (SELECT 1 FROM journal_lines WHERE entry_id = NEW.id)
      OR EXISTS (SELECT 1 FROM journal_lines WHERE entry_id = NEW.id GROUP BY currency
                 HAVING abs(sum(debit) - sum(credit)) > 0.00005)
    BEGIN SELECT RAISE(ABORT, 'unbalanced journal entry'); END""",
    """CREATE TRIGGER journal_line_of_open_entry BEFORE INSERT ON journal_lines
    WHEN EXISTS (SELECT 1 FROM journal_entries WHERE id = NEW.entry_id)
    BEGIN SELECT RAISE(ABORT, 'journal entry already written'); END""",
]
for _table in ("journal_entries", "journal_lines"):
    for _action in ("UPDATE", "DELETE"):
        _SQLITE.append(
            f"CREATE TRIGGER {_table}_no_{_action.lower()} BEFORE {_action} ON {_table} "
            f"BEGIN SELECT RAISE(ABORT, '{_table} are never changed'); END"
        )

_POSTGRESQL = [
    """CREATE FUNCTION journal_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NOT EXISTS (SELECT 1 FROM journal_lines WHERE entry_id = NEW.id)
         OR EXISTS (SELECT 1 FROM journal_lines WHERE entry_id = NEW.id GROUP BY currency
                    HAVING sum(debit) <> sum(credit)) THEN
        RAISE EXCEPTION 'unbalanced journal entry %', NEW.source_ref USING ERRCODE = '23514';
      END IF;
      RETURN NEW;
    END $$""",
    """CREATE TRIGGER journal_entry_balanced BEFORE INSERT ON journal_entries
    FOR EACH ROW EXECUTE FUNCTION journal_entry_balanced()""",
    """CREATE FUNCTION journal_line_of_open_entry() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM journal_entries WHERE id = NEW.entry_id) THEN
        RAISE EXCEPTION 'journal entry % already written', NEW.entry_id USING ERRCODE = '23514';
      END IF;
      RETURN NEW;
    END $$""",
    """CREATE TRIGGER journal_line_of_open_entry BEFORE INSERT ON journal_lines
    FOR EACH ROW EXECUTE FUNCTION journal_line_of_open_entry()""",
    """CREATE FUNCTION journal_never_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION '% are never changed', TG_TABLE_NAME USING ERRCODE = '23514';
    END $$""",
    """CREATE TRIGGER journal_entries_never_changed BEFORE UPDATE OR DELETE ON journal_entries
    FOR EACH ROW EXECUTE FUNCTION journal_never_changed()""",
    """CREATE TRIGGER journal_lines_never_changed BEFORE UPDATE OR DELETE ON journal_lines
    FOR EACH ROW EXECUTE FUNCTION journal_never_changed()""",
]
_TRIGGERS = {"sqlite": _SQLITE, "postgresql": _POSTGRESQL}
_DROP_TRIGGERS = {
    "sqlite": [
        f"DROP TRIGGER IF EXISTS {name}"
        for name in (
            "journal_entry_balanced",
            "journal_line_of_open_entry",
            "journal_entries_no_update",
            "journal_entries_no_delete",
            "journal_lines_no_update",
            "journal_lines_no_delete",
        )
    ],
    "postgresql": [
        "DROP TRIGGER IF EXISTS journal_entries_never_changed ON journal_entries",
        "DROP TRIGGER IF EXISTS journal_lines_never_changed ON journal_lines",
        "DROP TRIGGER IF EXISTS journal_entry_balanced ON journal_entries",
        "DROP TRIGGER IF EXISTS journal_line_of_open_entry ON journal_lines",
        "DROP FUNCTION IF EXISTS journal_never_changed()",
        "DROP FUNCTION IF EXISTS journal_entry_balanced()",
        "DROP FUNCTION IF EXISTS journal_line_of_open_entry()",
    ],
}
