"""The credentials handshake in both directions (OCPI 2.2.1 §7).

Registering a partner takes HTTP calls to it; they are never made inside a database
transaction: read, commit, call, then write under a condition on the token the partner
presented, so that two racing registrations with one TOKEN_A cannot both succeed.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
from pydantic import ValidationError
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from evhub.events import emit
from evhub.roaming import partners
from evhub.roaming.client import Credential, OcpiClient
from evhub.roaming.context import Identity, RoamingContext
from evhub.roaming.credentials_token import generate_token, token_hash
from evhub.roaming.models import Partner, PartnerEndpoint, PartnerRole
from evhub.roaming.partners import PartnerStatus
from evhub.roaming.registry import VERSION
from evhub.roaming.schemas import Credentials, Endpoint, Version, VersionDetails
from evhub.roaming.wire import InterfaceRole, OcpiError, OcpiStatus, PartnerError, Role

log = logging.getLogger("evhub.roaming")


def our_credentials(identity: Identity, token: str, versions_url: str) -> dict[str, Any]:
    """OCPI 2.2.1 §7.3.1: evhub plays both roles under one party."""
    business = {"name": identity.business_name}
    return {
        "token": token,
        "url": versions_url,
        "roles": [
            {"role": str(role), "business_details": business,
             "party_id": identity.party_id, "country_code": identity.country_code}
            for role in (Role.CPO, Role.EMSP)
        ],
    }  # fmt: skip


async def discover(
    client: OcpiClient, versions_url: str, credential: Credential
) -> tuple[str, list[Endpoint]]:
    """GET the partner's versions, pick 2.2.1, GET its details (OCPI 2.2.1 §6)."""
    try:
        versions = [
            Version.model_validate(v) for v in await client.get_json(versions_url, credential)
        ]
        chosen = next((v for v in versions if v.version == VERSION), None)
        if chosen is None:
            raise OcpiError(
                f"{versions_url} offers no OCPI {VERSION}", OcpiStatus.UNSUPPORTED_VERSION
            )
        details = VersionDetails.model_validate(await client.get_json(chosen.url, credential))
    except (PartnerError, ValidationError, TypeError) as exc:
        raise OcpiError(
            f"cannot use the versions at {versions_url}: {exc}",
            OcpiStatus.UNABLE_TO_USE_CLIENT_API,
        ) from exc
    except httpx.HTTPError as exc:
        raise OcpiError(
            f"{versions_url} unreachable: {exc!r}", OcpiStatus.UNABLE_TO_USE_CLIENT_API
        ) from exc
    return chosen.url, details.endpoints


def _endpoints(endpoints: list[Endpoint]) -> list[PartnerEndpoint]:
    seen: dict[tuple[str, str], PartnerEndpoint] = {}
    for e in endpoints:
        seen[(e.identifier, e.role)] = PartnerEndpoint(
            module=e.identifier, interface=str(e.role), url=e.url
        )
    return list(seen.values())


def _roles(credentials: Credentials) -> list[PartnerRole]:
    return [
        PartnerRole(role=str(r.role), country_code=r.country_code, party_id=r.party_id,
                    business_name=r.business_details.name)
        for r in credentials.roles
    ]  # fmt: skip


async def accept(
    ctx: RoamingContext,
    partner: Partner,
    presented: str,
    credentials: Credentials,
    expected: PartnerStatus,
    versions_url: str,
) -> dict[str, Any]:
    """POST (expected=invited) or PUT (expected=registered) /credentials from a partner.

    evhub GETs the partner's versions and details with the token it sent, issues a new
    token for it (TOKEN_C), and from then on the presented token is dead (§7.2.1, §7.2.3).
    """
    if partner.status != expected:
        verb = "registered already" if expected is PartnerStatus.INVITED else "not registered"
        raise OcpiError(f"partner is {verb}", OcpiStatus.CLIENT_ERROR, 405)
    invited = [(r.role, r.country_code, r.party_id) for r in partner.roles]
    offered = {(str(r.role), r.country_code, r.party_id) for r in credentials.roles}
    if expected is PartnerStatus.INVITED and not set(invited) <= offered:
        raise OcpiError(
            f"credentials lack the invited role {invited}", OcpiStatus.INVALID_PARAMETERS
        )
    credential = Credential(credentials.token, partner.accepts_raw_token)
    details_url, endpoints = await discover(ctx.client, credentials.url, credential)
    token_c = generate_token()
    now = ctx.clock.now()
    async with ctx.uow() as session:
        claimed = await session.execute(
            update(Partner)
            .where(Partner.id == partner.id, Partner.token_in_hash == token_hash(presented),
                   Partner.status == expected)
            .values(token_in_hash=token_hash(token_c), token_out=credentials.token,
                    versions_url=credentials.url, version=VERSION,
                    status=PartnerStatus.REGISTERED, updated_at=now)
        )  # fmt: skip
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            raise OcpiError("this token was used already", OcpiStatus.CLIENT_ERROR, 405)
        row = await partners.get(session, partner.id)
        row.roles, row.endpoints = [], []
        await session.flush()  # the old rows go before the new ones take their unique keys
        row.roles = _roles(credentials)
        row.endpoints = _endpoints(endpoints)
        row.name = credentials.roles[0].business_details.name
        try:
            await session.flush()
        except IntegrityError as exc:
            raise OcpiError(
                "a role in these credentials belongs to another partner",
                OcpiStatus.INVALID_PARAMETERS,
            ) from exc
        emit(session, "roaming.partner_registered", now, partner_id=partner.id,
             details_url=details_url, direction="incoming")  # fmt: skip
    return our_credentials(ctx.identity, token_c, versions_url)


async def unregister(ctx: RoamingContext, partner: Partner) -> None:
    """DELETE /credentials: the partner's token stops working at once (OCPI 2.2.1 §7.2.4)."""
    if partner.status != PartnerStatus.REGISTERED:
        raise OcpiError("partner is not registered", OcpiStatus.CLIENT_ERROR, 405)
    now = ctx.clock.now()
    async with ctx.uow() as session:
        row = await partners.get(session, partner.id)
        row.status, row.token_in_hash, row.token_out = PartnerStatus.UNREGISTERED, None, None
        row.endpoints, row.roles, row.updated_at = [], [], now
        emit(session, "roaming.partner_unregistered", now, partner_id=partner.id)


async def connect(
    ctx: RoamingContext, versions_url: str, token_a: str, our_versions_url: str
) -> int:
    """evhub registers with a partner that gave it TOKEN_A (OCPI 2.2.1 §7.2.1, as the Sender).

    TOKEN_B is committed before the POST: the partner calls evhub's versions back with it
    while evhub waits for its answer, and may be served by another process.
    """
    first = Credential(token_a)
    _, endpoints = await discover(ctx.client, versions_url, first)
    credentials_url = next((e.url for e in endpoints if e.identifier == "credentials"), None)
    if credentials_url is None:
        raise OcpiError(
            f"{versions_url} has no credentials endpoint", OcpiStatus.NO_MATCHING_ENDPOINTS
        )
    token_b = generate_token()
    now = ctx.clock.now()
    async with ctx.uow() as session:
        partner = Partner(name=versions_url[:100], status=PartnerStatus.CONNECTING,
                          token_in_hash=token_hash(token_b), token_out=token_a,
                          versions_url=versions_url, version=VERSION,
                          created_at=now, updated_at=now)  # fmt: skip
        partner.endpoints = _endpoints(endpoints)
        partner.roles = []
        session.add(partner)
        await session.flush()
        partner_id = partner.id
    body = our_credentials(ctx.identity, token_b, our_versions_url)
    try:
        reply = await ctx.client.call("POST", credentials_url, first, json=body)
        if not reply.ok:
            raise PartnerError(f"POST {credentials_url}: HTTP {reply.http_status}, "
                               f"status {reply.status_code}: {reply.message}")  # fmt: skip
        theirs = Credentials.model_validate(reply.data)
    except BaseException:
        async with ctx.uow() as session:
            await session.delete(await partners.get(session, partner_id))
        raise
    async with ctx.uow() as session:
        row = await partners.get(session, partner_id)
        row.token_out, row.status = theirs.token, PartnerStatus.REGISTERED
        row.roles = _roles(theirs)
        row.name = theirs.roles[0].business_details.name
        row.updated_at = ctx.clock.now()
        emit(session, "roaming.partner_registered", row.updated_at, partner_id=partner_id,
             direction="outgoing")  # fmt: skip
    log.info("event=roaming_registered partner_id=%s versions_url=%s", partner_id, versions_url)
    return partner_id


async def rekey(ctx: RoamingContext, partner_id: int, our_versions_url: str) -> None:
    """evhub re-keys with a registered partner: PUT our new token, take its new one (§7.2.3).

    The new token is committed first (the partner GETs evhub's versions with it during the
    PUT); if the PUT fails, the old one is put back.
    """
    new_token = generate_token()
    async with ctx.uow() as session:
        partner = await partners.get(session, partner_id)
        if partner.status != PartnerStatus.REGISTERED:
            raise OcpiError("partner is not registered", OcpiStatus.CLIENT_ERROR)
        url = partners.endpoint(partner, "credentials", InterfaceRole.RECEIVER) or next(
            (e.url for e in partner.endpoints if e.module == "credentials"), None
        )
        credential, old_hash = partners.credential(partner), partner.token_in_hash
        partner.token_in_hash = token_hash(new_token)
    if url is None:
        raise OcpiError("partner has no credentials endpoint", OcpiStatus.NO_MATCHING_ENDPOINTS)
    body = our_credentials(ctx.identity, new_token, our_versions_url)
    try:
        reply = await ctx.client.call("PUT", url, credential, json=body)
        if not reply.ok:
            raise PartnerError(f"PUT {url}: HTTP {reply.http_status}, {reply.status_code}")
        theirs = Credentials.model_validate(reply.data)
    except BaseException:
        async with ctx.uow() as session:
            (await partners.get(session, partner_id)).token_in_hash = old_hash
        raise
    async with ctx.uow() as session:
        row = await partners.get(session, partner_id)
        row.token_out, row.updated_at = theirs.token, ctx.clock.now()
        emit(session, "roaming.partner_rekeyed", row.updated_at, partner_id=partner_id)
