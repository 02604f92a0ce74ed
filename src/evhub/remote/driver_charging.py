"""A driver starts and stops a charge from the phone.

The same port and the same request ids as an operator's remote start (`service`), with the
driver's own app token, on an EVSE the driver may take, and a stop only of the driver's own
session. Everything is read and checked first, in a read transaction that is closed before the
station is asked (a station is never called inside a database transaction). What the station
says is told to the driver in words: refused, offline, or silent.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from evhub.accounts import passes
from evhub.assets import nearby
from evhub.assets import service as assets
from evhub.charging import driver_sessions
from evhub.charging import service as charging
from evhub.control import ChargerControl, CommandResult
from evhub.errors import Conflict, NotFound, StationTimeout, StationUnavailable
from evhub.remote.service import new_request_id

Sessions = async_sessionmaker[AsyncSession]


class ChargeRefused(Conflict):
    """The station answered, and not with Accepted."""


@dataclass(frozen=True)
class StartTarget:
    station_id: str
    evse_id: int
    id_token: str
    request_id: int


async def start_target(
    session: AsyncSession, driver_id: int, station_id: str, evse_id: int
) -> StartTarget:
    """What to ask the station, once the driver's token and the EVSE allow a start."""
    tokens = await passes.tokens_of(session, driver_id)
    app = next((t for t in tokens if t.type == passes.APP_TOKEN_TYPE), None)
    if app is None:
        raise Conflict("your account has no app token yet: confirm your e-mail address first")
    if app.status != "Accepted":
        raise Conflict(f"your app token is {app.status.lower()}: unblock it on your account page")
    station = await assets.get_station(session, station_id)
    evse = next((e for e in station.evses if e.evse_id == evse_id), None)
    if evse is None:
        raise NotFound(f"charge point {evse_id} of station {station_id!r} not found")
    state = nearby.evse_state(station, evse)
    if state == "Offline":
        raise StationUnavailable(f"station {station_id} is offline: choose another charge point")
    if state in ("Faulted", "Unavailable"):
        raise Conflict(f"charge point {station_id}/{evse_id} is out of service")
    if await charging.active_transaction_pk(session, station_id, evse_id) is not None:
        raise Conflict(f"charge point {station_id}/{evse_id} is in use")
    return StartTarget(station_id, evse_id, app.uid, new_request_id())


async def start_charge(
    sessions: Sessions, control: ChargerControl, driver_id: int, station_id: str, evse_id: int
) -> StartTarget:
    """Ask the station to start with the driver's app token (OCPP 2.0.1 F02
    RequestStartTransaction, 1.6 §5.11 RemoteStartTransaction); the transaction itself
    appears when the station reports it started."""
    async with sessions() as session, session.begin():
        target = await start_target(session, driver_id, station_id, evse_id)
    command = control.remote_start(
        target.station_id, target.evse_id, target.id_token, target.request_id
    )
    await _answered(command, "start", station_id)
    return target


async def stop_charge(
    sessions: Sessions, control: ChargerControl, driver_id: int, transaction_pk: int
) -> None:
    """Ask the station to stop the driver's running session (OCPP 2.0.1 F03
    RequestStopTransaction, 1.6 §5.12); it ends when the station reports it ended."""
    async with sessions() as session, session.begin():
        uids = [t.uid for t in await passes.tokens_of(session, driver_id)]
        tx = await driver_sessions.session_of(session, uids, transaction_pk)
        if tx.state != "active":
            raise Conflict("this charge has ended already")
        station_id, ocpp_id = tx.station_id, tx.ocpp_transaction_id
    await _answered(control.remote_stop(station_id, ocpp_id), "stop", station_id)


async def _answered(command: Awaitable[CommandResult], verb: str, station_id: str) -> None:
    try:
        result = await command
    except StationTimeout as exc:
        raise StationTimeout(f"station {station_id} did not answer: try again in a moment") from exc
    except StationUnavailable as exc:
        raise StationUnavailable(
            f"station {station_id} is offline: choose another charge point"
        ) from exc
    if not result.accepted:
        reason = _reason(result)
        raise ChargeRefused(f"station {station_id} refused to {verb} the charge ({reason})")


def _reason(result: CommandResult) -> str:
    info = result.detail.get("statusInfo") or result.detail.get("status_info")
    if isinstance(info, dict) and info.get("reasonCode"):
        return f"{result.status}: {info['reasonCode']}"
    return result.status
