"""evhub as eMSP: Sessions and CDRs receiver interfaces (OCPI 2.2.1 §9.2.2, §10.2.2).

A partner CPO pushes its Sessions of evhub's drivers (PUT whole, PATCH some fields) and posts
their CDRs, which are stored as received; a CDR is never replaced (§10: immutable)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse

from evhub.roaming import remote
from evhub.roaming.deps import OcpiSession, RegisteredPartner, RoamingDep, ocpi_base, ok
from evhub.roaming.models import RemoteObject
from evhub.roaming.registry import module
from evhub.roaming.wire import (
    InterfaceRole,
    OcpiError,
    OcpiStatus,
    format_timestamp,
    parse_timestamp,
)

router = APIRouter()
SESSIONS = module("sessions", InterfaceRole.RECEIVER).path
CDRS = module("cdrs", InterfaceRole.RECEIVER).path


def _unknown(what: str) -> OcpiError:
    return OcpiError(f"{what} not known", OcpiStatus.CLIENT_ERROR, 404)


@router.get(SESSIONS + "/{country_code}/{party_id}/{session_id}")
async def get_session(
    ctx: RoamingDep,
    _: RegisteredPartner,
    session: OcpiSession,
    country_code: str,
    party_id: str,
    session_id: str,
) -> JSONResponse:
    """§9.2.2.1: the Session as evhub has it."""
    row = await remote.find_object(session, "sessions", country_code, party_id, session_id)
    if row is None:
        raise _unknown(f"session {session_id}")
    return ok(ctx, row.data)


@router.put(SESSIONS + "/{country_code}/{party_id}/{session_id}")
async def put_session(
    ctx: RoamingDep,
    partner: RegisteredPartner,
    session: OcpiSession,
    country_code: str,
    party_id: str,
    session_id: str,
    body: Annotated[dict[str, Any], Body()],
) -> JSONResponse:
    """§9.2.2.2: a new or replaced Session; the URL and the object name the same one."""
    key = (country_code, party_id, session_id)
    replaced = await remote.store_pushed(session, partner, "sessions", key, body, ctx.clock.now())
    return ok(ctx, None, 200 if replaced else 201)


@router.patch(SESSIONS + "/{country_code}/{party_id}/{session_id}")
async def patch_session(
    ctx: RoamingDep,
    partner: RegisteredPartner,
    session: OcpiSession,
    country_code: str,
    party_id: str,
    session_id: str,
    body: Annotated[dict[str, Any], Body()],
) -> JSONResponse:
    """§9.2.2.3: some fields, and last_updated, which is required."""
    row = await remote.find_object(session, "sessions", country_code, party_id, session_id)
    if row is None:
        raise _unknown(f"session {session_id}")
    try:
        stamp = parse_timestamp(str(body["last_updated"]))
    except (KeyError, ValueError) as exc:
        raise OcpiError("PATCH needs last_updated", OcpiStatus.INVALID_PARAMETERS) from exc
    key = {"country_code": country_code, "party_id": party_id, "id": session_id}
    merged = dict(row.data) | body | key | {"last_updated": format_timestamp(stamp)}
    await remote.store_object(session, partner, "sessions", merged, ctx.clock.now())
    return ok(ctx, None)


def _cdr_url(request: Request, ctx: RoamingDep, row: RemoteObject) -> str:
    return f"{ocpi_base(request, ctx)}{CDRS}/{row.id}"


@router.post(CDRS)
async def post_cdr(
    request: Request,
    ctx: RoamingDep,
    partner: RegisteredPartner,
    session: OcpiSession,
    body: Annotated[dict[str, Any], Body()],
) -> JSONResponse:
    """§10.2.2.2: a new CDR; its URL here in Location. A CDR posted again is not replaced."""
    key = (str(body.get("country_code")), str(body.get("party_id")), str(body.get("id")))
    row = await remote.find_object(session, "cdrs", *key)
    created = row is None
    if row is None:
        row = await remote.store_object(session, partner, "cdrs", body, ctx.clock.now())
    response = ok(ctx, None, 201 if created else 200)
    response.headers["Location"] = _cdr_url(request, ctx, row)
    return response


@router.get(CDRS + "/{cdr_ref}")
async def get_cdr(
    ctx: RoamingDep, partner: RegisteredPartner, session: OcpiSession, cdr_ref: int
) -> JSONResponse:
    """§10.2.2.1: the CDR at the URL evhub gave in Location."""
    row = await session.get(RemoteObject, cdr_ref)
    if row is None or row.module != "cdrs" or row.partner_id != partner.id:
        raise _unknown(f"CDR {cdr_ref}")
    return ok(ctx, row.data)
