"""Roaming partners, their credentials and endpoints, tokens they pushed, data we cached.

Tokens we issue to a partner are stored as SHA-256 hashes only; the token a partner issued to
us is stored as given, since evhub must present it on every call it makes to that partner.
"""

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
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from evhub.db import Base, UTCDateTime


class Partner(Base):
    """A platform evhub exchanges OCPI credentials with (one credentials exchange)."""

    __tablename__ = "roaming_partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # invited (holds our TOKEN_A), connecting (we posted TOKEN_B), registered, unregistered.
    status: Mapped[str] = mapped_column(String(16))
    token_in_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    token_out: Mapped[str | None] = mapped_column(String(64), nullable=True)
    versions_url: Mapped[str | None] = mapped_column(String(255), nullable=True)
    version: Mapped[str | None] = mapped_column(String(8), nullable=True)
    # OCPI 2.2.1 §4.1.3: 2.1.1-era partners send the token without Base64.
    accepts_raw_token: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    roles: Mapped[list[PartnerRole]] = relationship(
        back_populates="partner", cascade="all, delete-orphan", lazy="selectin"
    )
    endpoints: Mapped[list[PartnerEndpoint]] = relationship(
        back_populates="partner", cascade="all, delete-orphan", lazy="selectin"
    )


class PartnerRole(Base):
    """A role the partner plays (CPO, EMSP...) under one country code and party id."""

    __tablename__ = "roaming_partner_roles"
    __table_args__ = (UniqueConstraint("role", "country_code", "party_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("roaming_partners.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(8))
    country_code: Mapped[str] = mapped_column(String(2))
    party_id: Mapped[str] = mapped_column(String(3))
    business_name: Mapped[str] = mapped_column(String(100), default="")

    partner: Mapped[Partner] = relationship(back_populates="roles")


class PartnerEndpoint(Base):
    """One module endpoint of the partner's negotiated version (OCPI 2.2.1 §6.2)."""

    __tablename__ = "roaming_partner_endpoints"
    __table_args__ = (UniqueConstraint("partner_id", "module", "interface"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("roaming_partners.id", ondelete="CASCADE"))
    module: Mapped[str] = mapped_column(String(32))
    interface: Mapped[str] = mapped_column(String(8))
    url: Mapped[str] = mapped_column(String(255))

    partner: Mapped[Partner] = relationship(back_populates="endpoints")


class LocationDetails(Base):
    """What OCPI needs of a site that the site itself does not hold (keyed by site id)."""

    __tablename__ = "roaming_location_details"

    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    publish: Mapped[bool] = mapped_column(Boolean, default=True)
    postal_code: Mapped[str | None] = mapped_column(String(10), nullable=True)
    city: Mapped[str | None] = mapped_column(String(45), nullable=True)
    state: Mapped[str | None] = mapped_column(String(20), nullable=True)
    parking_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    facilities: Mapped[list[str]] = mapped_column(JSON, default=list)
    # OCPI Hours object; None means open 24/7.
    opening_times: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RoamingToken(Base):
    """A token an eMSP pushed to evhub as CPO, or that evhub pulled from it (OCPI §12.3.2)."""

    __tablename__ = "roaming_tokens"
    __table_args__ = (
        UniqueConstraint("country_code", "party_id", "uid", "type"),
        Index("ix_roaming_tokens_uid", "uid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("roaming_partners.id", ondelete="CASCADE"))
    country_code: Mapped[str] = mapped_column(String(2))
    party_id: Mapped[str] = mapped_column(String(3))
    uid: Mapped[str] = mapped_column(String(36))
    type: Mapped[str] = mapped_column(String(16))
    contract_id: Mapped[str] = mapped_column(String(36))
    valid: Mapped[bool] = mapped_column(Boolean)
    whitelist: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    last_updated: Mapped[datetime] = mapped_column(UTCDateTime())


class RemoteObject(Base):
    """A partner's object cached by evhub as eMSP: locations now, tariffs, later others."""

    __tablename__ = "roaming_remote_objects"
    __table_args__ = (UniqueConstraint("module", "country_code", "party_id", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("roaming_partners.id", ondelete="CASCADE"), index=True
    )
    module: Mapped[str] = mapped_column(String(32))
    country_code: Mapped[str] = mapped_column(String(2))
    party_id: Mapped[str] = mapped_column(String(3))
    object_id: Mapped[str] = mapped_column(String(36))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    last_updated: Mapped[datetime] = mapped_column(UTCDateTime())
    pulled_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PullCheckpoint(Base):
    """The last complete pull of a module from a partner: the next one asks only for newer."""

    __tablename__ = "roaming_pull_checkpoints"
    __table_args__ = (UniqueConstraint("partner_id", "module"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("roaming_partners.id", ondelete="CASCADE"))
    module: Mapped[str] = mapped_column(String(32))
    pulled_until: Mapped[datetime] = mapped_column(UTCDateTime())  # the next date_from
    pulled_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Authorization(Base):
    """A decision evhub as CPO took on a partner's token at one station: by real-time request,
    on the whitelist, or given by the eMSP's own command (OCPI 2.2.1 §13: START_SESSION).

    The transaction it let start binds it (once); its reference goes into the Session and CDR.
    """

    __tablename__ = "roaming_authorizations"
    __table_args__ = (Index("ix_roaming_authorizations_uid_station", "uid", "station_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("roaming_partners.id", ondelete="CASCADE"))
    uid: Mapped[str] = mapped_column(String(36))
    station_id: Mapped[str] = mapped_column(String(64))
    allowed: Mapped[bool] = mapped_column(Boolean)
    how: Mapped[str] = mapped_column(String(16))  # OCPI AuthMethod: AUTH_REQUEST, WHITELIST...
    realtime: Mapped[str] = mapped_column(String(16))
    authorization_reference: Mapped[str | None] = mapped_column(String(36), nullable=True)
    cdr_token: Mapped[dict[str, Any]] = mapped_column(JSON)  # OCPI CdrToken
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    transaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("transactions.id", ondelete="SET NULL"), unique=True, nullable=True
    )


class Session(Base):
    """A transaction at an evhub station charged with a partner's token: an OCPI Session of
    evhub as CPO (§9), pushed to the token's eMSP."""

    __tablename__ = "roaming_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(
        ForeignKey("transactions.id", ondelete="CASCADE"), unique=True
    )
    partner_id: Mapped[int] = mapped_column(ForeignKey("roaming_partners.id", ondelete="CASCADE"))
    authorization_id: Mapped[int] = mapped_column(ForeignKey("roaming_authorizations.id"))
    status: Mapped[str] = mapped_column(String(16))  # OCPI SessionStatus
    pushed_wh: Mapped[int] = mapped_column(default=0)  # energy in the last Session queued
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Delivery(Base):
    """One OCPI push still owed to a partner (a Session PUT/PATCH, a CDR POST, a CommandResult
    POST): delivered in order per object, retried with back-off until acknowledged."""

    __tablename__ = "roaming_deliveries"
    __table_args__ = (Index("ix_roaming_deliveries_pending", "delivered_at", "object_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("roaming_partners.id", ondelete="CASCADE"))
    object_key: Mapped[str] = mapped_column(String(96))  # e.g. "sessions/12"
    method: Mapped[str] = mapped_column(String(8))
    url: Mapped[str] = mapped_column(String(512))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Command(Base):
    """An OCPI command (§13), received as CPO (`incoming`) or sent as eMSP, and its result."""

    __tablename__ = "roaming_commands"
    __table_args__ = (Index("ix_roaming_commands_reservation", "partner_id", "reservation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("roaming_partners.id", ondelete="CASCADE"))
    incoming: Mapped[bool] = mapped_column(Boolean)
    command: Mapped[str] = mapped_column(String(24))
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    reservation_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    response: Mapped[str | None] = mapped_column(String(16), nullable=True)  # CommandResponse
    result: Mapped[str | None] = mapped_column(String(24), nullable=True)  # CommandResult
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class PlanRoamingPrice(Base):
    """What a plan's drivers pay for a charge on a partner's network: the CPO's cost excl. VAT
    (the CDR's `total_cost`, OCPI 2.2.1 §10.3.1) raised by `markup_rate` (a fraction), plus
    `session_fee` (in `currency`) per CDR. A markup keeps the price tied to what the CPO bills
    evhub, whatever the shape of its tariff; a plan with no row passes the cost through."""

    __tablename__ = "roaming_plan_prices"
    __table_args__ = (
        CheckConstraint("markup_rate >= 0 AND markup_rate < 10", name="markup_rate_range"),
        CheckConstraint("session_fee >= 0", name="session_fee_not_negative"),
        CheckConstraint("length(currency) = 3", name="currency_iso4217"),
    )

    plan_id: Mapped[int] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True
    )
    markup_rate: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    session_fee: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    currency: Mapped[str] = mapped_column(String(3))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
