"""evhub as eMSP: Tokens sender interface (list, real-time authorisation) and Locations
receiver interface (CPOs push their locations and EVSE statuses)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from evhub.roaming import remote, service, tokens
from evhub.roaming.deps import (
    OcpiSession,
    PageDep,
    RegisteredPartner,
    RoamingDep,
    ok,
    paged_response,
)
from evhub.roaming.registry import module
from evhub.roaming.schemas import LocationReferences, TokenType
from evhub.roaming.wire import (
    InterfaceRole,
    OcpiError,
    OcpiStatus,
    format_timestamp,
    parse_timestamp,
)

router = APIRouter()
TOKENS = module("tokens", InterfaceRole.SENDER).path
LOCATIONS = module("locations", InterfaceRole.RECEIVER).path


@router.get(TOKENS)
async def list_tokens(
    request: Request, ctx: RoamingDep, _: RegisteredPartner, page: PageDep, session: OcpiSession
) -> JSONResponse:
    """OCPI 2.2.1 §12.2.1.1: evhub's drivers' tokens, paginated."""
    objects = [tokens.own_token_object(ctx.identity, t, ctx.token_whitelist)
               for t in await tokens.own_tokens(session)]  # fmt: skip
    return paged_response(request, ctx, page, objects)


@router.post(TOKENS + "/{uid}/authorize")
async def authorize(
    ctx: RoamingDep,
    _: RegisteredPartner,
    session: OcpiSession,
    uid: str,
    type: TokenType = TokenType.RFID,
    body: Annotated[dict[str, Any] | None, Body()] = None,
) -> JSONResponse:
    """§12.2.1.2: real-time authorisation; 2004 with HTTP 404 for a token evhub does not know."""
    try:
        location = LocationReferences.model_validate(body) if body else None
    except ValidationError as exc:
        raise OcpiError(f"invalid location references: {exc.errors()[0]['msg']}",
                        OcpiStatus.INVALID_PARAMETERS) from exc  # fmt: skip
    info = await service.answer_authorization(
        session, ctx.identity, ctx.token_whitelist, uid, type, location, ctx.clock.now()
    )
    return ok(ctx, info)


@router.put(LOCATIONS + "/{country_code}/{party_id}/{location_id}")
async def put_location(
    ctx: RoamingDep,
    partner: RegisteredPartner,
    session: OcpiSession,
    country_code: str,
    party_id: str,
    location_id: str,
    body: Annotated[dict[str, Any], Body()],
) -> JSONResponse:
    """§8.2.2.2: a CPO pushes a whole Location."""
    key = (country_code, party_id, location_id)
    replaced = await remote.store_pushed(session, partner, "locations", key, body, ctx.clock.now())
    return ok(ctx, None, 200 if replaced else 201)


@router.patch(LOCATIONS + "/{country_code}/{party_id}/{location_id}/{evse_uid}")
async def patch_evse(
    ctx: RoamingDep,
    partner: RegisteredPartner,
    session: OcpiSession,
    country_code: str,
    party_id: str,
    location_id: str,
    evse_uid: str,
    body: Annotated[dict[str, Any], Body()],
) -> JSONResponse:
    """§8.2.2.3: a CPO changes fields of one EVSE (its status, mostly)."""
    row = await remote.find_object(session, "locations", country_code, party_id, location_id)
    if row is None:
        raise OcpiError(f"location {location_id} not known", OcpiStatus.UNKNOWN_LOCATION, 404)
    try:
        stamp = parse_timestamp(str(body["last_updated"]))
    except (KeyError, ValueError) as exc:
        raise OcpiError("PATCH needs last_updated", OcpiStatus.INVALID_PARAMETERS) from exc
    location = dict(row.data)
    evses = [dict(e) for e in location.get("evses", [])]
    evse = next((e for e in evses if e.get("uid") == evse_uid), None)
    if evse is None:
        raise OcpiError(f"EVSE {evse_uid} not known", OcpiStatus.UNKNOWN_LOCATION, 404)
    evse.update(body)
    location["evses"] = evses
    previous = parse_timestamp(str(location["last_updated"]))
    location["last_updated"] = format_timestamp(max(previous, stamp))
    await remote.store_object(session, partner, "locations", location, ctx.clock.now())
    return ok(ctx, None)
