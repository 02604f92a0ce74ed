"""Tokens: evhub as CPO stores the eMSPs' tokens; evhub as eMSP offers its drivers' tokens.

OCPI 2.2.1 §12. A CPO keeps a token per (country code, party id, uid, type); the pushing
eMSP must own it (its credentials name that country code and party id).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts import service as accounts
from evhub.accounts.models import Token as OwnToken
from evhub.events import emit
from evhub.roaming import partners, remote
from evhub.roaming.context import Identity, RoamingContext
from evhub.roaming.models import Partner, RoamingToken
from evhub.roaming.schemas import Token, TokenPatch, TokenType, Whitelist
from evhub.roaming.wire import (
    InterfaceRole,
    OcpiError,
    OcpiStatus,
    PartnerError,
    Role,
    format_timestamp,
)

log = logging.getLogger("evhub.roaming")

# OCPP IdToken types as OCPI token types.
_OCPP_TYPES = {
    "ISO14443": TokenType.RFID,
    "ISO15693": TokenType.RFID,
    "Central": TokenType.APP_USER,
}


def _owned(partner: Partner, country_code: str, party_id: str) -> None:
    if not partners.plays(partner, Role.EMSP, country_code, party_id):
        raise OcpiError(
            f"token of {country_code}*{party_id}, which is not a party of this eMSP",
            OcpiStatus.INVALID_PARAMETERS,
        )


async def find(
    session: AsyncSession, country_code: str, party_id: str, uid: str, type_: TokenType
) -> RoamingToken | None:
    result = await session.execute(
        select(RoamingToken).where(
            RoamingToken.country_code == country_code,
            RoamingToken.party_id == party_id,
            RoamingToken.uid == uid,
            RoamingToken.type == type_,
        )
    )
    return result.scalar_one_or_none()


async def store(session: AsyncSession, partner: Partner, token: Token, now: datetime) -> bool:
    """PUT /tokens/{country_code}/{party_id}/{uid}: create or replace. True when created."""
    _owned(partner, token.country_code, token.party_id)
    data = token.model_dump(mode="json", exclude_none=True)
    row = await find(session, token.country_code, token.party_id, token.uid, token.type)
    created = row is None
    if row is None:
        row = RoamingToken(
            partner_id=partner.id, country_code=token.country_code, party_id=token.party_id,
            uid=token.uid, type=token.type, contract_id=token.contract_id, valid=token.valid,
            whitelist=token.whitelist, data=data, last_updated=token.last_updated,
        )  # fmt: skip
        try:
            async with session.begin_nested():  # a push and a pull may race to insert it
                session.add(row)
        except IntegrityError:
            created = False
            row = await find(session, token.country_code, token.party_id, token.uid, token.type)
            assert row is not None
    row.partner_id, row.contract_id, row.valid = partner.id, token.contract_id, token.valid
    row.whitelist, row.data, row.last_updated = token.whitelist, data, token.last_updated
    await session.flush()
    emit(session, "roaming.token_stored", now, token_id=row.id, uid=token.uid, valid=token.valid)
    return created


async def patch(
    session: AsyncSession,
    partner: Partner,
    key: tuple[str, str, str, TokenType],
    changes: TokenPatch,
    now: datetime,
) -> None:
    """PATCH /tokens/{country_code}/{party_id}/{uid}: merge the given fields (§12.2.2.3)."""
    country_code, party_id, uid, type_ = key
    _owned(partner, country_code, party_id)
    row = await find(session, country_code, party_id, uid, type_)
    if row is None:
        raise OcpiError(f"token {uid} not known", OcpiStatus.UNKNOWN_TOKEN, 404)
    merged = row.data | changes.model_dump(mode="json", exclude_unset=True)
    try:
        token = Token.model_validate(merged)
    except ValidationError as exc:
        raise OcpiError(f"patched token invalid: {exc}", OcpiStatus.INVALID_PARAMETERS) from exc
    await store(session, partner, token, now)


async def pull(ctx: RoamingContext, partner_id: int) -> int:
    """GET every page of an eMSP's tokens changed since the last pull and store them
    (OCPI 2.2.1 §12.1, pull model)."""
    started = ctx.clock.now()
    async with ctx.uow() as session:
        partner = await partners.get(session, partner_id)
        url = partners.endpoint(partner, "tokens", InterfaceRole.SENDER)
        to, credential = partners.party(partner, Role.EMSP), partners.credential(partner)
        last = await remote.checkpoint(session, partner_id, "tokens")
    if url is None or to is None:
        raise PartnerError(f"partner {partner_id} offers no eMSP tokens endpoint")
    params = {"date_from": format_timestamp(last.pulled_until)} if last else None
    count = 0
    async for page in ctx.client.pages(url, credential, to, params):
        async with ctx.uow() as session:
            partner = await partners.get(session, partner_id)
            for item in page:
                try:
                    token = Token.model_validate(item)
                    await store(session, partner, token, ctx.clock.now())
                except (ValidationError, OcpiError) as exc:
                    log.warning(
                        "event=roaming_token_skipped partner_id=%s error=%s", partner_id, exc
                    )
                    continue
                count += 1
    async with ctx.uow() as session:
        await remote.mark_pulled(session, partner_id, "tokens", started)
    return count


def ocpi_type(own: OwnToken) -> TokenType:
    return _OCPP_TYPES.get(own.type, TokenType.OTHER)


def own_token_object(identity: Identity, own: OwnToken, whitelist: Whitelist) -> dict[str, Any]:
    """One of evhub's driver tokens as an OCPI Token (evhub as eMSP)."""
    valid = own.status == "Accepted"
    return {
        "country_code": identity.country_code,
        "party_id": identity.party_id,
        "uid": own.uid,
        "type": str(ocpi_type(own)),
        "contract_id": f"{identity.country_code}-{identity.party_id}-C{own.id:08d}",
        "issuer": identity.business_name[:64],
        **({"group_id": own.group_id} if own.group_id else {}),
        "valid": valid,
        "whitelist": str(whitelist),
        "last_updated": format_timestamp(own.created_at),
    }


async def own_tokens(session: AsyncSession) -> list[OwnToken]:
    """Every token of evhub's drivers (read through the accounts service, page by page)."""
    out: list[OwnToken] = []
    while batch := await accounts.list_tokens(session, limit=500, offset=len(out)):
        out.extend(batch)
    return out


async def push(ctx: RoamingContext, partner_id: int, whitelist: Whitelist) -> int:
    """PUT each of evhub's tokens to a CPO's tokens receiver (OCPI 2.2.1 §12.2.2.2)."""
    async with ctx.uow() as session:
        partner = await partners.get(session, partner_id)
        url = partners.endpoint(partner, "tokens", InterfaceRole.RECEIVER)
        to, credential = partners.party(partner, Role.CPO), partners.credential(partner)
        objects = [own_token_object(ctx.identity, t, whitelist) for t in await own_tokens(session)]
    if url is None or to is None:
        raise PartnerError(f"partner {partner_id} offers no CPO tokens endpoint")
    me = ctx.identity
    for obj in objects:
        target = f"{url.rstrip('/')}/{me.country_code}/{me.party_id}/{obj['uid']}"
        reply = await ctx.client.call("PUT", target, credential, to, json=obj,
                                      params={"type": obj["type"]})  # fmt: skip
        if not reply.ok:
            raise PartnerError(f"PUT {target}: HTTP {reply.http_status}, {reply.status_code}")
    return len(objects)
