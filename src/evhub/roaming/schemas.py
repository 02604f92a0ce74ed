"""OCPI 2.2.1 objects evhub reads from partners, validated at the edge (snake_case on the wire)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

from evhub.roaming.wire import InterfaceRole, Role, format_timestamp, parse_timestamp


def _read_timestamp(value: object) -> object:
    return parse_timestamp(value) if isinstance(value, str) else value


OcpiDateTime = Annotated[
    datetime, BeforeValidator(_read_timestamp), PlainSerializer(format_timestamp)
]
CiString = Annotated[str, Field(pattern=r"^[\x20-\x7e]*$")]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow")


class BusinessDetails(_Wire):
    name: Annotated[str, Field(max_length=100)]
    website: str | None = None


class CredentialsRole(_Wire):
    role: Role
    business_details: BusinessDetails
    party_id: Annotated[str, Field(min_length=3, max_length=3)]
    country_code: Annotated[str, Field(min_length=2, max_length=2)]


class Credentials(_Wire):
    """OCPI 2.2.1 §7.3.1."""

    token: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")]
    url: Annotated[str, Field(max_length=255)]
    roles: Annotated[list[CredentialsRole], Field(min_length=1)]


class Version(_Wire):
    version: str
    url: str


class Endpoint(_Wire):
    identifier: str
    role: InterfaceRole
    url: str


class VersionDetails(_Wire):
    version: str
    endpoints: list[Endpoint]


class TokenType(StrEnum):
    AD_HOC_USER = "AD_HOC_USER"
    APP_USER = "APP_USER"
    OTHER = "OTHER"
    RFID = "RFID"


class Whitelist(StrEnum):
    """OCPI 2.2.1 §12.4.5."""

    ALWAYS = "ALWAYS"
    ALLOWED = "ALLOWED"
    ALLOWED_OFFLINE = "ALLOWED_OFFLINE"
    NEVER = "NEVER"


class Allowed(StrEnum):
    """OCPI 2.2.1 §12.4.1: the eMSP's answer to a real-time authorisation."""

    ALLOWED = "ALLOWED"
    BLOCKED = "BLOCKED"
    EXPIRED = "EXPIRED"
    NO_CREDIT = "NO_CREDIT"
    NOT_ALLOWED = "NOT_ALLOWED"


class Token(_Wire):
    """OCPI 2.2.1 §12.3.2 (extra fields are kept as received)."""

    country_code: Annotated[str, Field(min_length=2, max_length=2)]
    party_id: Annotated[str, Field(min_length=3, max_length=3)]
    uid: Annotated[CiString, Field(min_length=1, max_length=36)]
    type: TokenType
    contract_id: Annotated[CiString, Field(min_length=1, max_length=36)]
    visual_number: Annotated[str, Field(max_length=64)] | None = None
    issuer: Annotated[str, Field(max_length=64)]
    group_id: Annotated[CiString, Field(max_length=36)] | None = None
    valid: bool
    whitelist: Whitelist
    language: Annotated[str, Field(min_length=2, max_length=2)] | None = None
    default_profile_type: str | None = None
    energy_contract: dict[str, Any] | None = None
    last_updated: OcpiDateTime


class TokenPatch(_Wire):
    """A PATCH carries some fields and always `last_updated` (OCPI 2.2.1 §12.2.2.3)."""

    valid: bool | None = None
    whitelist: Whitelist | None = None
    contract_id: Annotated[CiString, Field(min_length=1, max_length=36)] | None = None
    visual_number: Annotated[str, Field(max_length=64)] | None = None
    issuer: Annotated[str, Field(max_length=64)] | None = None
    group_id: Annotated[CiString, Field(max_length=36)] | None = None
    language: Annotated[str, Field(min_length=2, max_length=2)] | None = None
    last_updated: OcpiDateTime


class LocationReferences(_Wire):
    """OCPI 2.2.1 §12.4.4: where a real-time authorisation is asked for."""

    location_id: Annotated[CiString, Field(min_length=1, max_length=36)]
    evse_uids: list[Annotated[CiString, Field(max_length=36)]] | None = None


class AuthorizationInfo(_Wire):
    """OCPI 2.2.1 §12.4.2."""

    allowed: Allowed
    token: Token
    location: LocationReferences | None = None
    authorization_reference: Annotated[str, Field(max_length=36)] | None = None


class CommandType(StrEnum):
    """OCPI 2.2.1 §13.4.4."""

    CANCEL_RESERVATION = "CANCEL_RESERVATION"
    RESERVE_NOW = "RESERVE_NOW"
    START_SESSION = "START_SESSION"
    STOP_SESSION = "STOP_SESSION"
    UNLOCK_CONNECTOR = "UNLOCK_CONNECTOR"


class CommandResponseType(StrEnum):
    """OCPI 2.2.1 §13.4.3: the CPO's answer at once."""

    NOT_SUPPORTED = "NOT_SUPPORTED"
    REJECTED = "REJECTED"
    ACCEPTED = "ACCEPTED"
    UNKNOWN_SESSION = "UNKNOWN_SESSION"


class CommandResultType(StrEnum):
    """OCPI 2.2.1 §13.4.2: the station's answer, later, at the response_url."""

    ACCEPTED = "ACCEPTED"
    CANCELED_RESERVATION = "CANCELED_RESERVATION"
    EVSE_OCCUPIED = "EVSE_OCCUPIED"
    EVSE_INOPERATIVE = "EVSE_INOPERATIVE"
    FAILED = "FAILED"
    NOT_SUPPORTED = "NOT_SUPPORTED"
    REJECTED = "REJECTED"
    TIMEOUT = "TIMEOUT"
    UNKNOWN_RESERVATION = "UNKNOWN_RESERVATION"


Id36 = Annotated[CiString, Field(min_length=1, max_length=36)]


class CommandRequest(_Wire):
    """The fields of every command of §13.3 (each command checks those it needs)."""

    response_url: Annotated[str, Field(min_length=1, max_length=255)]
    token: Token | None = None
    location_id: Id36 | None = None
    evse_uid: Id36 | None = None
    connector_id: Id36 | None = None
    session_id: Id36 | None = None
    reservation_id: Id36 | None = None
    expiry_date: OcpiDateTime | None = None
    authorization_reference: Id36 | None = None


class CommandResultBody(_Wire):
    """OCPI 2.2.1 §13.3.2 CommandResult, as the CPO posts it."""

    result: CommandResultType
    message: list[dict[str, str]] | None = None
