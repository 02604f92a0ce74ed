"""evhub as eMSP: commands for its drivers sent to a partner CPO (OCPI 2.2.1 §13), and the
CommandResults the CPO posts back to evhub's commands endpoint (one URL per command)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from evhub.events import emit
from evhub.roaming import partners
from evhub.roaming.context import RoamingContext
from evhub.roaming.models import Command, Partner
from evhub.roaming.registry import module
from evhub.roaming.schemas import CommandResultBody, CommandType
from evhub.roaming.wire import InterfaceRole, OcpiError, OcpiStatus, PartnerError, Role

RESULT = "roaming.command_result"


async def send(
    ctx: RoamingContext,
    partner_id: int,
    command: CommandType,
    body: dict[str, Any],
    ocpi_root: str | None = None,
) -> tuple[int, dict[str, Any]]:
    """POST {commands}/{command} to the CPO: the command's id here and the CommandResponse.

    `ocpi_root`: evhub's OCPI base as the CPO reaches it (default: the public URL's /ocpi).
    The command is stored first, so that its result finds it however fast it comes."""
    root = ocpi_root or (ctx.public_url.rstrip("/") + "/ocpi" if ctx.public_url else None)
    if root is None:
        raise PartnerError("evhub's public URL is not set: the CPO could not post the result")
    async with ctx.uow() as session:
        partner = await partners.get(session, partner_id)
        url = partners.endpoint(partner, "commands", InterfaceRole.RECEIVER)
        to, credential = partners.party(partner, Role.CPO), partners.credential(partner)
        row = Command(partner_id=partner_id, incoming=False, command=command, request=body,
                      reservation_id=body.get("reservation_id"),
                      created_at=ctx.clock.now())  # fmt: skip
        session.add(row)
        await session.flush()
        command_id = row.id
        path = module("commands", InterfaceRole.SENDER).path
        body = body | {"response_url": f"{root}{path}/{command}/{command_id}"}
        row.request = body
    if url is None or to is None:
        raise PartnerError(f"partner {partner_id} offers no CPO commands endpoint")
    reply = await ctx.client.call("POST", f"{url.rstrip('/')}/{command}", credential, to,
                                  json=body)  # fmt: skip
    if not reply.ok or not isinstance(reply.data, dict):
        raise PartnerError(f"POST {command}: HTTP {reply.http_status}, {reply.status_code}")
    async with ctx.uow() as session:
        stored = await session.get(Command, command_id)
        assert stored is not None
        stored.response = str(reply.data.get("result"))[:16]
    return command_id, reply.data


async def record_result(
    session: AsyncSession,
    partner: Partner,
    command: CommandType,
    command_id: int,
    body: dict[str, Any],
    now: Any,
) -> None:
    """POST {response_url}: the CPO's CommandResult for a command evhub sent (§13.2.1)."""
    row = await session.get(Command, command_id)
    if row is None or row.incoming or row.partner_id != partner.id or row.command != command:
        raise OcpiError(f"command {command}/{command_id} not known", OcpiStatus.CLIENT_ERROR, 404)
    result = CommandResultBody.model_validate(body)
    row.result, row.finished_at = str(result.result), now
    emit(session, RESULT, now, command_id=row.id, command=str(command), result=str(result.result))
