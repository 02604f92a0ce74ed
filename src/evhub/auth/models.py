"""Console users and API keys. Only hashes of passwords and keys are stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from evhub.db import Base, UTCDateTime

# Only a funder is limited to towns, and a funder always is.
FUNDER_HAS_TOWNS = "(role = 'funder') = (towns IS NOT NULL)"


class User(Base):
    """A person who signs in to the console."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(FUNDER_HAS_TOWNS, name="funder_towns"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # A funder's towns (the only ones it may see); None for every other role.
    towns: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True), nullable=True)


class ApiKey(Base):
    """A bearer key for programs. `prefix` names the key in listings; the key itself is lost."""

    __tablename__ = "api_keys"
    __table_args__ = (CheckConstraint(FUNDER_HAS_TOWNS, name="funder_towns"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    towns: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True), nullable=True)


class ConsoleSession(Base):
    """A signed-in console session. The cookie names it; sign-out revokes it, so a copied
    cookie stops working at once instead of at its expiry."""

    __tablename__ = "console_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
