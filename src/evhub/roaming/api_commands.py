"""Commands (OCPI 2.2.1 §13): evhub as CPO receives them; as eMSP it receives their results."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from evhub.roaming import commands, commands_out
from evhub.roaming.deps import OcpiSession, RegisteredPartner, RoamingDep, ok
from evhub.roaming.registry import module
from evhub.roaming.schemas import CommandType
from evhub.roaming.wire import InterfaceRole, OcpiError, OcpiStatus

router = APIRouter()
RECEIVER = module("commands", InterfaceRole.RECEIVER).path
SENDER = module("commands", InterfaceRole.SENDER).path


@router.post(RECEIVER + "/{command}")
async def receive_command(
    ctx: RoamingDep,
    partner: RegisteredPartner,
    session: OcpiSession,
    command: CommandType,
    body: Annotated[dict[str, Any], Body()],
) -> JSONResponse:
    """§13.2.2: the CommandResponse at once; the CommandResult follows at response_url."""
    return ok(ctx, await commands.receive(session, ctx, partner, command, body))


@router.post(SENDER + "/{command}/{command_id}")
async def command_result(
    ctx: RoamingDep,
    partner: RegisteredPartner,
    session: OcpiSession,
    command: CommandType,
    command_id: int,
    body: Annotated[dict[str, Any], Body()],
) -> JSONResponse:
    """§13.2.1: the CPO's CommandResult for a command evhub sent."""
    try:
        await commands_out.record_result(
            session, partner, command, command_id, body, ctx.clock.now()
        )
    except ValidationError as exc:
        raise OcpiError(f"invalid CommandResult: {exc.errors()[0]['msg']}",
                        OcpiStatus.INVALID_PARAMETERS) from exc  # fmt: skip
    return ok(ctx, None)
