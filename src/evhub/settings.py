"""Configuration from environment variables (EVHUB_*), with embedded defaults.

The default database is SQLite under ./var so that a fresh checkout runs with no server.
"""

from __future__ import annotations

import resource
from decimal import Decimal
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from evhub.payments.identifiers import creditor_id_valid

# The handshake cap derived from the descriptor limit stays within these.
MIN_DERIVED_PENDING, MAX_DERIVED_PENDING = 64, 65_536


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EVHUB_", env_file=None, extra="ignore")

    database_url: str = Field(
        default="sqlite+aiosqlite:///./var/evhub.sqlite3",
        description="SQLAlchemy async URL; sqlite+aiosqlite (embedded) or postgresql+asyncpg.",
    )
    host: str = "127.0.0.1"
    port: int = 8180
    heartbeat_interval_s: int = Field(default=300, ge=10)
    ocpp_response_timeout_s: float = Field(default=30.0, gt=0)
    log_level: str = "info"
    var_dir: Path = Path("./var")
    # Authentication: the key that signs console sessions and upload URLs (generated once
    # under var_dir when unset; give every node the same one), and the session lifetime.
    secret_key: str | None = Field(default=None, min_length=32)
    session_max_age_h: float = Field(default=12.0, gt=0)
    bootstrap_admin_key: str | None = Field(
        default=None,
        min_length=32,
        description="An admin API key ensured at start-up (first deployment, demo, tests).",
    )
    # Security profile 1 (Basic auth over ws). Profile 2 (wss) is terminated by uvicorn's TLS.
    ssl_certfile: str | None = None
    # The OCPP handshake: headers must arrive within the timeout; at most so many connections
    # may be unauthenticated (headers pending, or authenticating) and so many authenticate at
    # once; wrong passwords are refused without a check for a doubling delay after a few.
    # No cap set: half of the process's file descriptors (`pending_handshake_cap`).
    ocpp_header_timeout_s: float = Field(default=10.0, gt=0)
    ocpp_max_pending_handshakes: int | None = Field(default=None, ge=1)
    ocpp_handshake_concurrency: int = Field(default=64, ge=1)
    ocpp_login_free_failures: int = Field(default=5, ge=1, description="Per station id.")
    ocpp_login_free_failures_per_address: int = Field(default=50, ge=1)
    ocpp_login_backoff_max_s: float = Field(default=300.0, gt=0)
    # Log upload URLs handed to stations: how long one is good for, and the size of a file.
    upload_url_ttl_s: float = Field(default=3600.0, gt=0)
    upload_max_bytes: int = Field(default=64 * 1024 * 1024, gt=0)
    ssl_keyfile: str | None = None
    # Several nodes: a NATS server with JetStream carries commands to the node that holds a
    # station's socket and relays the event log; PostgreSQL holds presence and leadership.
    # Without a NATS URL the node runs alone, in process (SQLite allowed).
    nats_url: str | None = Field(default=None, description="e.g. nats://127.0.0.1:4222")
    node_id: str = Field(
        default="", max_length=40, description="This node's name (default: host name and pid)."
    )
    node_lease_s: float = Field(
        default=15.0,
        gt=0,
        description="A node's stations count as absent this long after it "
        "stopped renewing its lease (a dead node's stations may then be marked offline).",
    )
    leadership_poll_s: float = Field(
        default=1.0, gt=0, description="How often a node tries to take over a leaderless loop."
    )
    migrate_on_start: bool = Field(
        default=True, description="Off when one process migrates before starting the nodes."
    )
    # Maintenance: fault detection thresholds and the watchdog's polling period.
    offline_after_missed_heartbeats: int = Field(default=3, ge=1)
    offline_grace_s: float = Field(
        default=60.0, ge=0, description="A closed WebSocket counts as offline after this."
    )
    watchdog_period_s: float = Field(default=5.0, gt=0)
    stuck_transaction_after_s: float = Field(
        default=900.0, gt=0, description="An active transaction with no meter value this long."
    )
    boot_loop_count: int = Field(default=3, ge=2)
    boot_loop_window_s: float = Field(default=600.0, gt=0)
    feed_keepalive_s: float = Field(
        default=15.0, gt=0, description="Comment lines keep idle event streams open."
    )
    # The event log: how long delivered events are kept (for catching up and resuming feeds),
    # the bound past which they go whatever consumers lag, and the relay's safety-net poll.
    event_retention_h: float = Field(default=24.0, gt=0)
    event_max_retention_h: float = Field(
        default=168.0, gt=0, description="Past this, events are pruned even if undelivered."
    )
    event_prune_interval_s: float = Field(default=300.0, gt=0)
    event_poll_s: float = Field(
        default=1.0, gt=0, description="How often consumers look for other nodes' events."
    )
    event_retry_max_s: float = Field(default=60.0, gt=0)
    gc_young_threshold: int = Field(
        default=10_000,
        ge=1,
        description="Allocations between young collections of `evhub serve`; the interpreter's "
        "default, 700, costs a storm about three times the collector's CPU for less memory "
        "(serving.tune_collector).",
    )
    gc_freeze_min_stations: int = Field(
        default=500,
        ge=0,
        description="From this many connected stations, steady, the node freezes its heap out "
        "of the cyclic collector (frozen_heap); 0: never.",
    )
    # Smart charging: slot length, re-plan timer, and the solver's time budget per plan.
    plan_slot_minutes: float = Field(default=5.0, gt=0, le=60)
    plan_interval_s: float = Field(default=60.0, gt=0)
    plan_time_limit_s: float = Field(default=2.0, gt=0)
    profile_validity_s: float = Field(
        default=900.0,
        gt=0,
        description="A TxProfile ends by itself this long after it was sent unless renewed; "
        "the station then falls back to its small TxDefault allowance.",
    )
    # Reservations: booking rules and the scheduler that reserves EVSEs on their stations.
    booking_free_cancellation_min: float = Field(
        default=30.0, ge=0, description="Cancelling later than this before the start costs a fee."
    )
    booking_max_slot_h: float = Field(default=24.0, gt=0)
    reservation_lead_time_min: float = Field(
        default=10.0, ge=0, description="ReserveNow is sent this long before a booked slot."
    )
    reservation_no_show_grace_min: float = Field(
        default=15.0, ge=0, description="Not started this long after its start: a no-show."
    )
    overstay_notice_every_min: float = Field(default=15.0, gt=0)
    reservation_period_s: float = Field(
        default=30.0, gt=0, description="Wall-clock period of the reservation scheduler."
    )
    # Public base URL of this server, for the absolute links of public feeds (GBFS).
    public_url: str | None = Field(default=None, description="Default http://127.0.0.1:{port}.")
    # Car-sharing: booking durations, grace periods, late return fee, quotas, GBFS identity.
    carsharing_min_booking_min: float = Field(default=30.0, gt=0)
    carsharing_max_booking_h: float = Field(default=72.0, gt=0)
    carsharing_early_start_min: float = Field(
        default=10.0, ge=0, description="A trip may start this long before its booking."
    )
    carsharing_no_show_grace_min: float = Field(
        default=15.0, ge=0, description="A booking not started this long after it starts."
    )
    carsharing_return_grace_min: float = Field(
        default=10.0, ge=0, description="Returned later than this after the end: a late fee."
    )
    carsharing_late_fee_base: Decimal = Field(default=Decimal("15.00"), ge=0)
    carsharing_late_fee_per_min: Decimal = Field(default=Decimal("0.50"), ge=0)
    carsharing_late_fee_cap: Decimal = Field(default=Decimal("150.00"), ge=0)
    carsharing_no_show_fee: Decimal = Field(
        default=Decimal("10.00"), ge=0, description="A booking closed as a no-show costs this."
    )
    carsharing_cleaning_fee: Decimal = Field(
        default=Decimal("30.00"), ge=0, description="A car returned dirty: what its cleaning costs."
    )
    carsharing_damage_franchise_cap: Decimal = Field(
        default=Decimal("800.00"), ge=0, description="A damage costs its driver at most this."
    )
    carsharing_currency: str = Field(default="EUR", min_length=3, max_length=3)
    carsharing_quota_bookings: int = Field(
        default=12, ge=1, description="Bookings a driver may start per quota period."
    )
    carsharing_quota_period: str = Field(default="week", pattern="^(day|week|month)$")
    carsharing_low_soc_pct: float = Field(
        default=40.0, ge=0, le=100, description="An electric car returned below this charges."
    )
    carsharing_hub_radius_m: float = Field(default=300.0, gt=0)
    carsharing_photo_max_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    carsharing_photos_per_report: int = Field(default=8, ge=1)
    carsharing_period_s: float = Field(
        default=30.0, gt=0, description="Wall-clock period of the car-sharing scheduler."
    )
    carsharing_price_per_hour: Decimal = Field(default=Decimal("9.00"), ge=0)
    carsharing_price_per_km: Decimal = Field(default=Decimal("0.25"), ge=0)
    carsharing_price_daily_cap: Decimal | None = Field(
        default=Decimal("59.00"), ge=0, description="A day of a trip costs at most this."
    )
    carsharing_vat_rate: Decimal = Field(default=Decimal("0.20"), ge=0, lt=1)
    carsharing_energy_margin: float = Field(
        default=0.15, ge=0, description="Energy charged above a booking's distance, a fraction."
    )
    carsharing_default_trip_km: float = Field(
        default=50.0, gt=0, description="The distance of a booking that does not say it."
    )
    carsharing_v2g_min_soc_pct: float = Field(
        default=40.0, ge=0, le=100,
        description="A shared car feeding the grid never goes below this state of charge (%), "
        "unless its hub's vehicle-to-grid setting says another floor.",
    )  # fmt: skip
    # The console's fleet map: a tile server's URL template (Leaflet's {z}/{x}/{y}) and the
    # credit its licence asks for. Empty: no tiles, the hubs and cars on a blank map (offline).
    map_tiles_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    map_tiles_attribution: str = (
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
    )
    gbfs_system_id: str = "evhub"
    gbfs_system_name: str = "evhub car-sharing"
    gbfs_timezone: str = "Europe/Paris"
    gbfs_language: str = "en"
    gbfs_contact_email: str = "opendata@example.org"
    gbfs_ttl_s: int = Field(default=60, ge=0)
    # Roaming (OCPI 2.2.1): evhub's party, and how often partners' data is pulled; partners
    # find the versions at {public_url}/ocpi/versions.
    ocpi_country_code: str = Field(default="FR", pattern=r"^[A-Z]{2}$")
    ocpi_party_id: str = Field(default="EVH", pattern=r"^[A-Z0-9]{3}$")
    ocpi_business_name: str = Field(default="evhub", max_length=100)
    roaming_pull_interval_s: float = Field(default=900.0, gt=0)
    roaming_request_timeout_s: float = Field(
        default=10.0, gt=0, description="Outgoing OCPI calls, real-time authorisation included."
    )
    roaming_session_update_s: float = Field(
        default=60.0, gt=0, description="How often live Sessions' energy and cost are pushed."
    )
    roaming_command_timeout_s: float = Field(
        default=60.0, gt=0, description="How long a station has to answer an eMSP's command."
    )
    roaming_delivery_retention_days: float = Field(
        default=30.0, gt=0, description="How long acknowledged OCPI pushes are kept."
    )
    # IRVE open data: how long a reader may keep the public files before asking again.
    open_data_max_age_s: int = Field(default=300, ge=0)
    report_timezone: str = Field(
        default="Europe/Paris", description="Months of the monthly report start at midnight here."
    )

    # Mail to drivers (verification, password reset, welcome): the SMTP server that takes it.
    # Without a host, mails wait in the outbox until one is set.
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "evhub <no-reply@localhost>"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_use_tls: bool = Field(default=False, description="Implicit TLS (usually port 465).")
    smtp_starttls: bool = Field(default=False, description="STARTTLS (usually port 587).")
    smtp_timeout_s: float = Field(default=10.0, gt=0)
    # Driver accounts: sessions, and how long the links sent by mail stay good.
    driver_session_max_age_h: float = Field(default=24.0 * 30, gt=0)
    verify_link_ttl_h: float = Field(default=48.0, gt=0)
    reset_link_ttl_h: float = Field(default=2.0, gt=0)
    welcome_link_ttl_h: float = Field(default=24.0 * 14, gt=0)
    # Payments: the card acquirer (none: card payments stay pending), the hold asked at the
    # start of a pay-as-you-go session, and the operator as SEPA direct debit creditor.
    payment_provider: str = Field(default="none", pattern="^(none|acquirer)$")
    acquirer_url: str = "http://127.0.0.1:8190"
    acquirer_api_key: str = ""
    acquirer_timeout_s: float = Field(default=10.0, gt=0)
    acquirer_attempts: int = Field(default=3, ge=1, le=10)
    payments_resume_interval_s: float = Field(
        default=30.0, gt=0, description="How often operations left pending are sent again."
    )
    payment_hold_amount: Decimal = Field(default=Decimal("50.00"), gt=0, decimal_places=2)
    payment_currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    sepa_creditor_name: str = Field(default="evhub", min_length=1, max_length=70)
    sepa_creditor_iban: str | None = None
    sepa_creditor_bic: str | None = None
    sepa_creditor_id: str | None = Field(
        default=None, description="The operator's SEPA creditor identifier (EPC262-08)."
    )

    @field_validator("sepa_creditor_id")
    @classmethod
    def _creditor_id(cls, value: str | None) -> str | None:
        if value is not None and not creditor_id_valid(value):
            raise ValueError(f"not a valid SEPA creditor identifier: {value!r}")
        return value.replace(" ", "").upper() if value else value

    @field_validator("sepa_creditor_iban")
    @classmethod
    def _creditor_iban(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return str(IBAN(value).compact)
        except SchwiftyException as exc:
            raise ValueError(f"not a valid IBAN: {exc}") from exc

    # Invoices: the operator's legal identity as printed on them (checked when invoices are
    # issued: SIREN by its Luhn key, the VAT number by its check digits), the fees of bookings
    # (their rules are recorded by reservations), and the VAT rate of fees.
    invoice_company_name: str | None = Field(default=None, max_length=200)
    invoice_company_siren: str | None = None
    invoice_company_vat_number: str | None = None
    invoice_company_address: str | None = Field(default=None, max_length=300)
    invoice_company_postcode: str | None = Field(default=None, max_length=16)
    invoice_company_city: str | None = Field(default=None, max_length=120)
    invoice_company_country: str = Field(default="FR", pattern=r"^[A-Z]{2}$")
    invoice_number_prefix: str = Field(default="EVH", pattern=r"^[A-Z0-9]{1,8}$")
    invoice_currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    invoice_vat_rate: Decimal = Field(default=Decimal("20.00"), ge=0, le=100)
    invoice_timezone: str = Field(
        default="Europe/Paris", description="An invoice's month starts at midnight here."
    )
    fee_no_show: Decimal = Field(default=Decimal("10.00"), ge=0, description="Excl. VAT.")
    fee_late_cancellation: Decimal = Field(default=Decimal("5.00"), ge=0)
    fee_overstay_per_min: Decimal = Field(default=Decimal("0.20"), ge=0)
    v2g_credit_per_kwh: Decimal = Field(
        default=Decimal("0.12"), ge=0, max_digits=8, decimal_places=4,
        description="What a driver is credited per kWh their car fed back (excl. VAT).",
    )  # fmt: skip

    def pending_handshake_cap(self) -> int:
        """How many connections may be in handshake at once: the configured cap, or half of
        this process's file descriptors. A fixed 4,096 refused some 900 of 5,000 stations
        coming back at once, each then retrying (all back in 46-52 s in three runs; with no
        refusal 31-67 s in five, median 42 s: `benchmarks/RESULTS.md`). Half the descriptors
        still leaves the other half to the stations already in and to the database."""
        if self.ocpp_max_pending_handshakes is not None:
            return self.ocpp_max_pending_handshakes
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft == resource.RLIM_INFINITY:
            return MAX_DERIVED_PENDING
        return max(MIN_DERIVED_PENDING, min(MAX_DERIVED_PENDING, soft // 2))

    def advertised_url(self) -> str:
        """The base URL partners reach evhub at (OCPI versions at {url}/ocpi/versions)."""
        return (self.public_url or f"http://127.0.0.1:{self.port}").rstrip("/")


def load_settings() -> Settings:
    return Settings()
