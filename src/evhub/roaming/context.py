"""What the roaming domain needs at run time: its unit of work, clock, client and identity."""

from __future__ import annotations

from dataclasses import dataclass

from evhub.clock import Clock
from evhub.control import ChargerControl
from evhub.roaming.client import OcpiClient, Party
from evhub.roaming.schemas import Whitelist
from evhub.settings import Settings
from evhub.uow import UnitOfWork


@dataclass(frozen=True)
class Identity:
    """evhub's party, as it presents itself in credentials and routing headers."""

    country_code: str
    party_id: str
    business_name: str

    @property
    def party(self) -> Party:
        return Party(self.country_code, self.party_id)

    @classmethod
    def from_settings(cls, settings: Settings) -> Identity:
        return cls(settings.ocpi_country_code, settings.ocpi_party_id, settings.ocpi_business_name)


@dataclass
class RoamingContext:
    uow: UnitOfWork
    clock: Clock
    client: OcpiClient
    identity: Identity
    public_url: str | None  # None: the base URL of the request being answered
    pull_interval_s: float = 900.0
    request_timeout_s: float = 10.0
    # What evhub as eMSP tells CPOs about its drivers' tokens (OCPI 2.2.1 §12.4.5).
    token_whitelist: Whitelist = Whitelist.ALLOWED_OFFLINE
    # The stations, for the eMSPs' commands (OCPI 2.2.1 §13); None: commands are refused.
    control: ChargerControl | None = None
    command_timeout_s: float = 60.0  # CommandResponse.timeout; then the result is TIMEOUT

    @classmethod
    def from_settings(cls, settings: Settings, uow: UnitOfWork, clock: Clock) -> RoamingContext:
        identity = Identity.from_settings(settings)
        return cls(
            uow=uow,
            clock=clock,
            client=OcpiClient(identity.party, settings.roaming_request_timeout_s),
            identity=identity,
            public_url=settings.public_url,
            pull_interval_s=settings.roaming_pull_interval_s,
            request_timeout_s=settings.roaming_request_timeout_s,
        )
