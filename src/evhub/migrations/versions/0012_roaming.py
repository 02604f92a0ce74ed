"""roaming: OCPI partners, credentials, endpoints, tokens, cached objects

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-01 19:19:51.008655
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import evhub.db

revision: str = "0012"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "roaming_partners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("token_in_hash", sa.String(length=64), nullable=True),
        sa.Column("token_out", sa.String(length=64), nullable=True),
        sa.Column("versions_url", sa.String(length=255), nullable=True),
        sa.Column("version", sa.String(length=8), nullable=True),
        sa.Column("accepts_raw_token", sa.Boolean(), nullable=False),
        sa.Column("created_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roaming_partners")),
        sa.UniqueConstraint("token_in_hash", name=op.f("uq_roaming_partners_token_in_hash")),
    )
    op.create_table(
        "roaming_location_details",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("publish", sa.Boolean(), nullable=False),
        sa.Column("postal_code", sa.String(length=10), nullable=True),
        sa.Column("city", sa.String(length=45), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=True),
        sa.Column("parking_type", sa.String(length=32), nullable=True),
        sa.Column("facilities", sa.JSON(), nullable=False),
        sa.Column("opening_times", sa.JSON(), nullable=True),
        sa.Column("updated_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_roaming_location_details_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_roaming_location_details")),
    )
    op.create_table(
        "roaming_partner_endpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("module", sa.String(length=32), nullable=False),
        sa.Column("interface", sa.String(length=8), nullable=False),
        sa.Column("url", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["roaming_partners.id"],
            name=op.f("fk_roaming_partner_endpoints_partner_id_roaming_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roaming_partner_endpoints")),
        sa.UniqueConstraint(
            "partner_id",
            "module",
            "interface",
            name=op.f("uq_roaming_partner_endpoints_partner_id_module_interface"),
        ),
    )
    op.create_table(
        "roaming_partner_roles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("business_name", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["roaming_partners.id"],
            name=op.f("fk_roaming_partner_roles_partner_id_roaming_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roaming_partner_roles")),
        sa.UniqueConstraint(
            "role",
            "country_code",
            "party_id",
            name=op.f("uq_roaming_partner_roles_role_country_code_party_id"),
        ),
    )
    with op.batch_alter_table("roaming_partner_roles", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_roaming_partner_roles_partner_id"), ["partner_id"], unique=False
        )

    op.create_table(
        "roaming_pull_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("module", sa.String(length=32), nullable=False),
        sa.Column("pulled_until", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("pulled_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["roaming_partners.id"],
            name=op.f("fk_roaming_pull_checkpoints_partner_id_roaming_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roaming_pull_checkpoints")),
        sa.UniqueConstraint(
            "partner_id", "module", name=op.f("uq_roaming_pull_checkpoints_partner_id_module")
        ),
    )
    op.create_table(
        "roaming_remote_objects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("module", sa.String(length=32), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("object_id", sa.String(length=36), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("last_updated", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("pulled_at", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["roaming_partners.id"],
            name=op.f("fk_roaming_remote_objects_partner_id_roaming_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roaming_remote_objects")),
        sa.UniqueConstraint(
            "module",
            "country_code",
            "party_id",
            "object_id",
            name=op.f("uq_roaming_remote_objects_module_country_code_party_id_object_id"),
        ),
    )
    with op.batch_alter_table("roaming_remote_objects", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_roaming_remote_objects_partner_id"), ["partner_id"], unique=False
        )

    op.create_table(
        "roaming_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("party_id", sa.String(length=3), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("contract_id", sa.String(length=36), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("whitelist", sa.String(length=16), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("last_updated", evhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["roaming_partners.id"],
            name=op.f("fk_roaming_tokens_partner_id_roaming_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roaming_tokens")),
        sa.UniqueConstraint(
            "country_code",
            "party_id",
            "uid",
            "type",
            name=op.f("uq_roaming_tokens_country_code_party_id_uid_type"),
        ),
    )
    with op.batch_alter_table("roaming_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_roaming_tokens_uid", ["uid"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("roaming_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_roaming_tokens_uid")

    op.drop_table("roaming_tokens")
    with op.batch_alter_table("roaming_remote_objects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_roaming_remote_objects_partner_id"))

    op.drop_table("roaming_remote_objects")
    op.drop_table("roaming_pull_checkpoints")
    with op.batch_alter_table("roaming_partner_roles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_roaming_partner_roles_partner_id"))

    op.drop_table("roaming_partner_roles")
    op.drop_table("roaming_partner_endpoints")
    op.drop_table("roaming_location_details")
    op.drop_table("roaming_partners")
