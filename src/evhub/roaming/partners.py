"""Partners: lookup by the credentials token they present, roles, endpoints, invitations."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.errors import InvalidInput, NotFound
from evhub.events import emit
from evhub.roaming.client import Credential, Party
from evhub.roaming.credentials_token import generate_token, header_candidates, token_hash
from evhub.roaming.models import Partner, PartnerRole
from evhub.roaming.wire import InterfaceRole, Role


class PartnerStatus(StrEnum):
    INVITED = "invited"  # holds our TOKEN_A, may register with it (OCPI 2.2.1 §7.2)
    CONNECTING = "connecting"  # we posted our credentials to it, waiting for its answer
    REGISTERED = "registered"
    UNREGISTERED = "unregistered"


async def invite(
    session: AsyncSession,
    name: str,
    country_code: str,
    party_id: str,
    role: Role,
    now: datetime,
    accepts_raw_token: bool = False,
) -> str:
    """Register a partner that will connect to evhub; returns its TOKEN_A (stored hashed)."""
    if role not in (Role.CPO, Role.EMSP):
        raise InvalidInput("evhub roams with CPOs and eMSPs (hubs and others later)")
    if len(country_code) != 2 or len(party_id) != 3:
        raise InvalidInput("country code has 2 characters, party id 3 (OCPI 2.2.1 §16.5)")
    token_a = generate_token()
    partner = Partner(
        name=name,
        status=PartnerStatus.INVITED,
        token_in_hash=token_hash(token_a),
        accepts_raw_token=accepts_raw_token,
        created_at=now,
        updated_at=now,
    )
    partner.roles = [
        PartnerRole(role=role, country_code=country_code.upper(), party_id=party_id.upper())
    ]
    session.add(partner)
    await session.flush()
    emit(session, "roaming.partner_invited", now, partner_id=partner.id, role=str(role))
    return token_a


async def by_header(session: AsyncSession, header: str | None) -> Partner | None:
    """The partner whose token this Authorization header carries (OCPI 2.2.1 §4.1.3)."""
    decoded, written = header_candidates(header)
    if decoded is not None:
        found = await _by_hash(session, token_hash(decoded))
        if found is not None:
            return found
    if written is not None:
        found = await _by_hash(session, token_hash(written))
        if found is not None and found.accepts_raw_token:
            return found
    return None


def presented_token(header: str | None, partner: Partner) -> str:
    """The token itself, as the partner meant it (for GET /credentials)."""
    decoded, written = header_candidates(header)
    if decoded is not None and partner.token_in_hash == token_hash(decoded):
        return decoded
    assert written is not None
    return written


async def _by_hash(session: AsyncSession, digest: str) -> Partner | None:
    result = await session.execute(select(Partner).where(Partner.token_in_hash == digest))
    return result.scalar_one_or_none()


async def get(session: AsyncSession, partner_id: int) -> Partner:
    partner = await session.get(Partner, partner_id)
    if partner is None:
        raise NotFound(f"roaming partner {partner_id} not found")
    return partner


async def list_all(session: AsyncSession) -> list[Partner]:
    return list((await session.execute(select(Partner).order_by(Partner.id))).scalars())


async def registered(session: AsyncSession, role: Role | None = None) -> list[Partner]:
    query = select(Partner).where(Partner.status == PartnerStatus.REGISTERED)
    if role is not None:
        query = query.where(Partner.roles.any(PartnerRole.role == role))
    return list((await session.execute(query.order_by(Partner.id))).scalars())


def endpoint(partner: Partner, module: str, interface: InterfaceRole) -> str | None:
    for e in partner.endpoints:
        if e.module == module and e.interface == interface:
            return e.url
    return None


def party(partner: Partner, role: Role) -> Party | None:
    for r in partner.roles:
        if r.role == role:
            return Party(r.country_code, r.party_id)
    return None


def credential(partner: Partner) -> Credential:
    if partner.token_out is None:
        raise NotFound(f"roaming partner {partner.id} gave evhub no token")
    return Credential(partner.token_out, partner.accepts_raw_token)


def plays(partner: Partner, role: Role, country_code: str, party_id: str) -> bool:
    return any(
        r.role == role and r.country_code == country_code and r.party_id == party_id
        for r in partner.roles
    )
