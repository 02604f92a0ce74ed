"""What protocol handlers need from the rest of the application."""

from __future__ import annotations

from dataclasses import dataclass, field

from evhub.assets.writer import StationWriter
from evhub.charging.badges import ForeignTokens
from evhub.charging.writer import MeterWriter
from evhub.clock import Clock
from evhub.ocpp.credential_reads import CredentialReads
from evhub.ocpp.registry import ConnectionRegistry
from evhub.uow import UnitOfWork


@dataclass
class GatewayContext:
    uow: UnitOfWork
    clock: Clock
    meter_writer: MeterWriter
    station_writer: StationWriter
    credential_reads: CredentialReads
    # the key of station password hashes (`assets.credentials.credential_key`); None without a
    # configured secret key: stored PBKDF2 hashes are then kept (and checked in a thread)
    credential_key: bytes | None
    registry: ConnectionRegistry = field(default_factory=ConnectionRegistry)
    heartbeat_interval_s: int = 300
    pending_retry_interval_s: int = 60
    response_timeout_s: float = 30.0
    # tokens partners issued (roaming), asked when a token is not evhub's own
    foreign_tokens: ForeignTokens | None = None
    # Set when the node stops, once its stations are marked offline together (`endpoint.leave`):
    # their sockets then close without a mark each.
    leaving: bool = False
