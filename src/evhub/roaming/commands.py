"""evhub as CPO: commands from eMSPs (OCPI 2.2.1 §13) run on the real stations.

`receive` answers at once (CommandResponse) from what evhub knows, and stores the command with
the station it targets; `CommandRunner`, a consumer of the event log, then asks the station
through `ChargerControl` (committed first, never inside a transaction), bounded by
`command_timeout_s` (TIMEOUT), and owes the eMSP the CommandResult at its response_url.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.assets import service as assets
from evhub.charging import service as charging
from evhub.control import CommandResult
from evhub.errors import NotFound, StationTimeout, StationUnavailable
from evhub.events import Event, emit
from evhub.events.relay import Consumer
from evhub.roaming import deliveries, partners
from evhub.roaming.context import RoamingContext
from evhub.roaming.models import Authorization as Decision
from evhub.roaming.models import Command, Partner
from evhub.roaming.models import Session as RoamingSession
from evhub.roaming.schemas import CommandRequest, CommandResponseType, CommandResultType
from evhub.roaming.schemas import CommandType as C
from evhub.roaming.wire import OcpiError, OcpiStatus, Role

log = logging.getLogger("evhub.roaming")
RECEIVED = "roaming.command_received"
R = CommandResponseType
# What a station's answer (OCPP 1.6 / 2.0.1 statuses) means as a CommandResult (§13.4.2).
_RESULTS = {
    "Rejected": CommandResultType.REJECTED,
    "Occupied": CommandResultType.EVSE_OCCUPIED,
    "Faulted": CommandResultType.EVSE_INOPERATIVE,
    "Unavailable": CommandResultType.EVSE_INOPERATIVE,
    "NotSupported": CommandResultType.NOT_SUPPORTED,
    "UnknownConnector": CommandResultType.NOT_SUPPORTED,
}
_NEEDS = {
    C.START_SESSION: ("token", "location_id"),
    C.STOP_SESSION: ("session_id",),
    C.RESERVE_NOW: ("token", "expiry_date", "reservation_id", "location_id"),
    C.CANCEL_RESERVATION: ("reservation_id",),
    C.UNLOCK_CONNECTOR: ("location_id", "evse_uid", "connector_id"),
}


@dataclass(frozen=True)
class Target:
    station_id: str
    evse_id: int


def parse(command: C, body: dict[str, Any]) -> CommandRequest:
    try:
        request = CommandRequest.model_validate(body)
    except ValidationError as exc:
        raise OcpiError(f"invalid {command}: {exc.errors()[0]['msg']}",
                        OcpiStatus.INVALID_PARAMETERS) from exc  # fmt: skip
    missing = [f for f in _NEEDS[command] if getattr(request, f) is None]
    if missing:
        raise OcpiError(f"{command} needs {', '.join(missing)}", OcpiStatus.INVALID_PARAMETERS)
    return request


async def _target(session: AsyncSession, request: CommandRequest) -> Target | None:
    """The EVSE named by location_id and evse_uid (uid `station:evse`), or the location's first
    one when evse_uid is absent (§13.3.5: the CPO may choose)."""
    if request.location_id is None or not request.location_id.isdigit():
        return None
    stations = await assets.list_stations(session, int(request.location_id))
    for station in stations:
        for evse in station.evses:
            if request.evse_uid in (None, f"{station.id}:{evse.evse_id}"):
                return Target(station.id, evse.evse_id)
    return None


def _owns(partner: Partner, request: CommandRequest) -> bool:
    token = request.token
    return token is None or partners.plays(partner, Role.EMSP, token.country_code, token.party_id)


async def _resolve(
    session: AsyncSession, partner: Partner, command: C, request: CommandRequest
) -> tuple[Target | None, dict[str, Any], R]:
    """The EVSE a command acts on, what else the station needs, and the answer so far."""
    if not _owns(partner, request):
        return None, {}, R.REJECTED  # §13.3.1: not a token of this eMSP
    if command is C.STOP_SESSION:
        return await _session_target(session, partner, str(request.session_id))
    if command is C.CANCEL_RESERVATION:
        reserved = await session.scalar(
            select(Command)
            .where(Command.partner_id == partner.id, Command.incoming.is_(True),
                   Command.command == C.RESERVE_NOW, Command.response == R.ACCEPTED,
                   Command.reservation_id == request.reservation_id)
            .order_by(Command.id.desc()).limit(1)
        )  # fmt: skip
        if reserved is None:
            return None, {}, R.REJECTED
        return Target(**reserved.request["target"]), {"reservation": reserved.id}, R.ACCEPTED
    if command is C.UNLOCK_CONNECTOR and not str(request.connector_id).isdigit():
        return None, {}, R.REJECTED
    target = await _target(session, request)
    return target, {}, R.ACCEPTED if target is not None else R.REJECTED


async def _session_target(
    session: AsyncSession, partner: Partner, session_id: str
) -> tuple[Target | None, dict[str, Any], R]:
    row = await session.scalar(
        select(RoamingSession).where(
            RoamingSession.transaction_id == (int(session_id) if session_id.isdigit() else -1),
            RoamingSession.partner_id == partner.id,
        )
    )
    if row is None:
        return None, {}, R.UNKNOWN_SESSION
    tx = await charging.get_transaction(session, row.transaction_id)
    if tx.stopped_at is not None:
        return None, {}, R.REJECTED
    return Target(tx.station_id, tx.evse_id), {"transaction": tx.ocpp_transaction_id}, R.ACCEPTED


def _record_command_authorization(
    session: AsyncSession, partner: Partner, request: CommandRequest, target: Target, now: Any
) -> None:
    """The eMSP's command is its authorisation (CDR auth_method COMMAND): the start it causes
    takes it (`badges.recent`) instead of asking again."""
    token = request.token
    assert token is not None
    session.add(Decision(
        partner_id=partner.id, uid=token.uid, station_id=target.station_id, allowed=True,
        how="COMMAND", realtime="COMMAND",
        authorization_reference=request.authorization_reference,
        cdr_token={"country_code": token.country_code, "party_id": token.party_id,
                   "uid": token.uid, "type": str(token.type), "contract_id": token.contract_id},
        decided_at=now,
    ))  # fmt: skip


async def receive(
    session: AsyncSession, ctx: RoamingContext, partner: Partner, command: C, body: dict[str, Any]
) -> dict[str, Any]:
    """The CommandResponse (§13.3.1); an accepted command is stored, then run."""
    request = parse(command, body)
    now = ctx.clock.now()
    target, extra, response = await _resolve(session, partner, command, request)
    if target is not None and (ctx.control is None or not ctx.control.is_connected(
            target.station_id)):  # fmt: skip
        response = R.REJECTED  # the station is offline: it cannot take the command now
    row = Command(partner_id=partner.id, incoming=True, command=command,
                  request={"body": body, "extra": extra,
                           "target": vars(target) if target else None},
                  reservation_id=request.reservation_id, response=response,
                  created_at=now)  # fmt: skip
    session.add(row)
    await session.flush()
    if response is R.ACCEPTED:
        assert target is not None
        if command is C.START_SESSION:
            _record_command_authorization(session, partner, request, target, now)
        emit(session, RECEIVED, now, command_id=row.id, command=str(command))
    log.info("event=roaming_command command=%s partner_id=%s response=%s",
             command, partner.id, response)  # fmt: skip
    return {"result": str(response), "timeout": int(ctx.command_timeout_s)}


def result_of(answer: CommandResult) -> CommandResultType:
    if answer.accepted:
        return CommandResultType.ACCEPTED
    return _RESULTS.get(answer.status, CommandResultType.FAILED)


class CommandRunner:
    """Runs each accepted command on its station and owes the eMSP the CommandResult."""

    def __init__(self, ctx: RoamingContext) -> None:
        self.ctx = ctx

    def consumer(self) -> Consumer:
        return Consumer("roaming.commands", self.on_event, frozenset({RECEIVED}))

    async def on_event(self, event: Event) -> None:
        command_id = int(event.data["command_id"])
        async with self.ctx.uow() as session:
            row = await session.get(Command, command_id)
            if row is None or row.started_at is not None:
                return  # delivered again after it ran: a station is told once
            row.started_at = self.ctx.clock.now()
            command, body, extra = C(row.command), row.request["body"], row.request["extra"]
            target = Target(**row.request["target"])
        result = await self.call(command, CommandRequest.model_validate(body), target, extra,
                                 command_id)  # fmt: skip
        now = self.ctx.clock.now()
        async with self.ctx.uow() as session:
            row = await session.get(Command, command_id)
            assert row is not None
            row.result, row.finished_at = result, now
            deliveries.enqueue(session, row.partner_id, f"commands/{row.id}", "POST",
                               body["response_url"], {"result": str(result)}, now)  # fmt: skip
        log.info("event=roaming_command_result command=%s id=%s result=%s",
                 command, command_id, result)  # fmt: skip

    async def call(
        self, command: C, request: CommandRequest, target: Target, extra: dict[str, Any],
        command_id: int,
    ) -> CommandResultType:  # fmt: skip
        """Ask the station (OCPP RequestStart/Stop, ReserveNow, CancelReservation, Unlock)."""
        control = self.ctx.control
        if control is None:
            return CommandResultType.FAILED
        station, evse = target.station_id, target.evse_id
        uid = request.token.uid if request.token else ""
        try:
            async with asyncio.timeout(self.ctx.command_timeout_s):
                if command is C.START_SESSION:
                    answer = await control.remote_start(station, evse, uid, command_id)
                elif command is C.STOP_SESSION:
                    answer = await control.remote_stop(station, str(extra["transaction"]))
                elif command is C.RESERVE_NOW:
                    assert request.expiry_date is not None
                    answer = await control.reserve_now(station, evse, command_id, uid,
                                                       request.expiry_date, None)  # fmt: skip
                elif command is C.CANCEL_RESERVATION:
                    answer = await control.cancel_reservation(station, int(extra["reservation"]))
                else:
                    connector = int(str(request.connector_id))
                    answer = await control.unlock_connector(station, evse, connector)
        except (TimeoutError, StationTimeout):
            return CommandResultType.TIMEOUT
        except (StationUnavailable, NotFound):
            return CommandResultType.FAILED
        return result_of(answer)
