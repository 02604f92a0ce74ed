"""evhub as CPO: Locations sender interface and Tokens receiver interface (thin routes)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from evhub.roaming import locations, tokens
from evhub.roaming.deps import (
    OcpiSession,
    PageDep,
    RegisteredPartner,
    RoamingDep,
    ok,
    paged_response,
)
from evhub.roaming.registry import module
from evhub.roaming.schemas import Token, TokenPatch, TokenType
from evhub.roaming.wire import InterfaceRole, OcpiError, OcpiStatus

router = APIRouter()
LOCATIONS = module("locations", InterfaceRole.SENDER).path
TOKENS = module("tokens", InterfaceRole.RECEIVER).path


def _unknown_location(location_id: str) -> OcpiError:
    return OcpiError(f"location {location_id} not known", OcpiStatus.UNKNOWN_LOCATION, 404)


@router.get(LOCATIONS)
async def list_locations(
    request: Request, ctx: RoamingDep, _: RegisteredPartner, page: PageDep, session: OcpiSession
) -> JSONResponse:
    """OCPI 2.2.1 §8.2.1.1: paginated, filtered on last_updated."""
    return paged_response(request, ctx, page, await locations.list_locations(session, ctx.identity))


async def _location(session: OcpiSession, ctx: RoamingDep, location_id: str) -> dict[str, Any]:
    location = await locations.get_location(session, ctx.identity, location_id)
    if location is None:
        raise _unknown_location(location_id)
    return location


def _evse(location: dict[str, Any], evse_uid: str) -> dict[str, Any]:
    evse = next((e for e in location["evses"] if e["uid"] == evse_uid), None)
    if evse is None:
        raise _unknown_location(f"{location['id']}/{evse_uid}")
    return dict(evse)


@router.get(LOCATIONS + "/{location_id}")
async def get_location(
    ctx: RoamingDep, _: RegisteredPartner, session: OcpiSession, location_id: str
) -> JSONResponse:
    return ok(ctx, await _location(session, ctx, location_id))


@router.get(LOCATIONS + "/{location_id}/{evse_uid}")
async def get_evse(
    ctx: RoamingDep, _: RegisteredPartner, session: OcpiSession, location_id: str, evse_uid: str
) -> JSONResponse:
    return ok(ctx, _evse(await _location(session, ctx, location_id), evse_uid))


@router.get(LOCATIONS + "/{location_id}/{evse_uid}/{connector_id}")
async def get_connector(
    ctx: RoamingDep,
    _: RegisteredPartner,
    session: OcpiSession,
    location_id: str,
    evse_uid: str,
    connector_id: str,
) -> JSONResponse:
    evse = _evse(await _location(session, ctx, location_id), evse_uid)
    connector = next((c for c in evse["connectors"] if c["id"] == connector_id), None)
    if connector is None:
        raise _unknown_location(f"{location_id}/{evse_uid}/{connector_id}")
    return ok(ctx, connector)


@router.get(TOKENS + "/{country_code}/{party_id}/{uid}")
async def get_token(
    ctx: RoamingDep,
    partner: RegisteredPartner,
    session: OcpiSession,
    country_code: str,
    party_id: str,
    uid: str,
    type: TokenType = TokenType.RFID,
) -> JSONResponse:
    """§12.2.2.1: the token as evhub has it, so the eMSP can check it."""
    row = await tokens.find(session, country_code, party_id, uid, type)
    if row is None or row.partner_id != partner.id:
        raise OcpiError(f"token {uid} not known", OcpiStatus.UNKNOWN_TOKEN, 404)
    return ok(ctx, row.data)


@router.put(TOKENS + "/{country_code}/{party_id}/{uid}")
async def put_token(
    ctx: RoamingDep,
    partner: RegisteredPartner,
    session: OcpiSession,
    country_code: str,
    party_id: str,
    uid: str,
    body: Annotated[dict[str, Any], Body()],
    type: TokenType = TokenType.RFID,
) -> JSONResponse:
    """§12.2.2.2: create or replace; the URL and the object must name the same token."""
    try:
        token = Token.model_validate(body)
    except ValidationError as exc:
        raise OcpiError(
            f"invalid token: {exc.errors()[0]['msg']}", OcpiStatus.INVALID_PARAMETERS
        ) from exc
    if (token.country_code, token.party_id, token.uid, token.type) != (
        country_code,
        party_id,
        uid,
        type,
    ):
        raise OcpiError("the token does not match its URL", OcpiStatus.INVALID_PARAMETERS)
    created = await tokens.store(session, partner, token, ctx.clock.now())
    return ok(ctx, None, 201 if created else 200)


@router.patch(TOKENS + "/{country_code}/{party_id}/{uid}")
async def patch_token(
    ctx: RoamingDep,
    partner: RegisteredPartner,
    session: OcpiSession,
    country_code: str,
    party_id: str,
    uid: str,
    body: Annotated[dict[str, Any], Body()],
    type: TokenType = TokenType.RFID,
) -> JSONResponse:
    """§12.2.2.3: some fields and last_updated, which is required."""
    try:
        changes = TokenPatch.model_validate(body)
    except ValidationError as exc:
        raise OcpiError(
            f"invalid patch: {exc.errors()[0]['msg']}", OcpiStatus.INVALID_PARAMETERS
        ) from exc
    await tokens.patch(
        session, partner, (country_code, party_id, uid, type), changes, ctx.clock.now()
    )
    return ok(ctx, None)
