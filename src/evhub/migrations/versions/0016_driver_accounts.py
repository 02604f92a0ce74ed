"""accounts: self-service drivers and their sessions, plans, a vehicle catalogue, vehicles,
card shipments, orders; the mail outbox

Revision ID: 0016
Revises: 0021
Create Date: 2026-12-01 22:50:00
"""

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

import evhub.db

revision: str = "0016"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Usable battery, AC and DC charging power: manufacturers' figures, rounded.
CATALOGUE = [
    ("Renault", "Zoe R135 (52 kWh)", 52.0, 22.0, 50.0),
    ("Renault", "Megane E-Tech EV60", 60.0, 22.0, 130.0),
    ("Peugeot", "e-208 (50 kWh)", 46.3, 11.0, 100.0),
    ("Tesla", "Model 3 RWD", 57.5, 11.0, 170.0),
    ("Tesla", "Model Y Long Range", 75.0, 11.0, 250.0),
    ("Volkswagen", "ID.3 Pro (58 kWh)", 58.0, 11.0, 120.0),
    ("Volkswagen", "ID.4 Pro (77 kWh)", 77.0, 11.0, 135.0),
    ("Kia", "Niro EV (64.8 kWh)", 64.8, 11.0, 72.0),
    ("Hyundai", "Kona Electric (64 kWh)", 64.0, 11.0, 77.0),
    ("Hyundai", "Ioniq 5 (77.4 kWh)", 74.0, 11.0, 220.0),
    ("Dacia", "Spring", 25.0, 7.0, 30.0),
    ("Fiat", "500e (42 kWh)", 37.3, 11.0, 85.0),
    ("MG", "MG4 Electric (64 kWh)", 61.7, 11.0, 135.0),
    ("Nissan", "Leaf (40 kWh)", 39.0, 6.6, 50.0),
    ("BMW", "i4 eDrive40", 80.7, 11.0, 205.0),
]

# Each plan's tariff is set by an admin (PATCH /api/v1/accounts/plans/{code}) once the tariff
# exists; until then the site's public tariff prices its drivers' charges.
PLANS = [
    ("payg", "Pay as you go", "visitor", Decimal("0.00"), None),
    ("resident-night", "Resident night pass", "resident", Decimal("19.00"), None),
    ("fleet", "Fleet", "fleet", Decimal("9.90"), None),
]


def upgrade() -> None:
    _create_tables()
    _alter_drivers_and_tokens()
    _seed()


def _create_tables() -> None:
    op.create_table(
        "plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("user_group", sa.String(length=32), nullable=False),
        sa.Column("monthly_fee", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("vat_rate", sa.Numeric(precision=5, scale=4), nullable=False),
        sa.Column("tariff_id", sa.String(length=36), nullable=True),
        sa.CheckConstraint("length(currency) = 3", name=op.f("ck_plans_currency_iso4217")),
        sa.CheckConstraint("monthly_fee >= 0", name=op.f("ck_plans_fee_not_negative")),
        sa.CheckConstraint(
            "vat_rate >= 0 AND vat_rate < 1", name=op.f("ck_plans_vat_rate_fraction")
        ),
        sa.ForeignKeyConstraint(
            ["tariff_id"],
            ["tariffs.id"],
            name=op.f("fk_plans_tariff_id_tariffs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
        sa.UniqueConstraint("code", name=op.f("uq_plans_code")),
    )
    op.create_table(
        "vehicle_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("make", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("battery_kwh", sa.Float(), nullable=False),
        sa.Column("ac_max_kw", sa.Float(), nullable=False),
        sa.Column("dc_max_kw", sa.Float(), nullable=True),
        sa.CheckConstraint("battery_kwh > 0", name=op.f("ck_vehicle_models_battery_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vehicle_models")),
        sa.UniqueConstraint("make", "model", name=op.f("uq_vehicle_models_make_model")),
    )
    op.create_table(
        "driver_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("driver_id", sa.Integer(), nullable=False),
        sa.Column("created_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", evhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["driver_id"],
            ["drivers.id"],
            name=op.f("fk_driver_sessions_driver_id_drivers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_driver_sessions")),
    )
    op.create_index(
        op.f("ix_driver_sessions_driver_id"), "driver_sessions", ["driver_id"], unique=False
    )
    op.create_table(
        "vehicles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("driver_id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("plate", sa.String(length=16), nullable=True),
        sa.Column("vin", sa.String(length=17), nullable=True),
        sa.Column("created_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["driver_id"],
            ["drivers.id"],
            name=op.f("fk_vehicles_driver_id_drivers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["vehicle_models.id"],
            name=op.f("fk_vehicles_model_id_vehicle_models"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vehicles")),
        sa.UniqueConstraint("vin", name=op.f("uq_vehicles_vin")),
    )
    op.create_index(op.f("ix_vehicles_driver_id"), "vehicles", ["driver_id"], unique=False)
    op.create_table(
        "card_shipments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("driver_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("posted_at", evhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('to_post', 'posted')", name=op.f("ck_card_shipments_state_known")
        ),
        sa.ForeignKeyConstraint(
            ["driver_id"],
            ["drivers.id"],
            name=op.f("fk_card_shipments_driver_id_drivers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["token_id"],
            ["tokens.id"],
            name=op.f("fk_card_shipments_token_id_tokens"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_shipments")),
    )
    op.create_index(
        op.f("ix_card_shipments_driver_id"), "card_shipments", ["driver_id"], unique=False
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("body_digest", sa.String(length=64), nullable=False),
        sa.Column("driver_id", sa.Integer(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["driver_id"],
            ["drivers.id"],
            name=op.f("fk_orders_driver_id_drivers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("reference", name=op.f("uq_orders_reference")),
    )
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", evhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failed_at", evhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_outbox")),
    )
    op.create_index("ix_mail_outbox_unsent", "mail_outbox", ["sent_at", "id"], unique=False)


def _alter_drivers_and_tokens() -> None:
    with op.batch_alter_table("drivers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("password_hash", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("email_verified_at", evhub.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("plan_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("contract_id", sa.String(length=20), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_drivers_plan_id_plans"),
            "plans",
            ["plan_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_unique_constraint(batch_op.f("uq_drivers_contract_id"), ["contract_id"])
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contract_id", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("blocked_by", sa.String(length=16), nullable=True))


def _seed() -> None:
    plans = sa.table(
        "plans",
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("user_group", sa.String),
        sa.column("monthly_fee", sa.Numeric(10, 2)),
        sa.column("currency", sa.String),
        sa.column("vat_rate", sa.Numeric(5, 4)),
        sa.column("tariff_id", sa.String),
    )
    op.bulk_insert(plans, [
        {"code": code, "name": name, "user_group": group, "monthly_fee": fee,
         "currency": "EUR", "vat_rate": Decimal("0.2000"), "tariff_id": tariff}
        for code, name, group, fee, tariff in PLANS
    ])  # fmt: skip
    models = sa.table(
        "vehicle_models",
        sa.column("make", sa.String),
        sa.column("model", sa.String),
        sa.column("battery_kwh", sa.Float),
        sa.column("ac_max_kw", sa.Float),
        sa.column("dc_max_kw", sa.Float),
    )
    op.bulk_insert(models, [
        {"make": make, "model": model, "battery_kwh": battery, "ac_max_kw": ac, "dc_max_kw": dc}
        for make, model, battery, ac, dc in CATALOGUE
    ])  # fmt: skip


def downgrade() -> None:
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.drop_column("blocked_by")
        batch_op.drop_column("contract_id")
    with op.batch_alter_table("drivers", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_drivers_contract_id"), type_="unique")
        batch_op.drop_constraint(batch_op.f("fk_drivers_plan_id_plans"), type_="foreignkey")
        batch_op.drop_column("contract_id")
        batch_op.drop_column("plan_id")
        batch_op.drop_column("email_verified_at")
        batch_op.drop_column("password_hash")
    op.drop_index("ix_mail_outbox_unsent", table_name="mail_outbox")
    op.drop_table("mail_outbox")
    op.drop_table("orders")
    op.drop_index(op.f("ix_card_shipments_driver_id"), table_name="card_shipments")
    op.drop_table("card_shipments")
    op.drop_index(op.f("ix_vehicles_driver_id"), table_name="vehicles")
    op.drop_table("vehicles")
    op.drop_index(op.f("ix_driver_sessions_driver_id"), table_name="driver_sessions")
    op.drop_table("driver_sessions")
    op.drop_table("vehicle_models")
    op.drop_table("plans")
