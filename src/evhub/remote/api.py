"""REST routes for remote operations: the station's answer, or 409 when offline, 504 when silent."""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter, Request

from evhub.accounts import service as accounts
from evhub.assets import service as assets
from evhub.auth.deps import ADMIN, OPERATOR
from evhub.auth.signing import check_upload_token, upload_token
from evhub.control import CommandResult
from evhub.deps import ClockDep, ControlDep, SessionDep
from evhub.errors import InvalidInput, NotFound
from evhub.params import DbId
from evhub.planning import caps
from evhub.remote import service
from evhub.remote.schemas import (
    AvailabilityIn,
    BulkIn,
    BulkOut,
    ChargingLimitIn,
    CommandOut,
    ConfigurationIn,
    FirmwareIn,
    RemoteStartIn,
    RemoteStopIn,
    ResetIn,
    TriggerIn,
    UnlockIn,
)

router = APIRouter(tags=["remote operations"])


def _out(station_id: str, result: CommandResult) -> CommandOut:
    return CommandOut(station_id=station_id, status=result.status, detail=result.detail)


@router.post("/stations/{station_id}/reset", response_model=CommandOut, dependencies=[OPERATOR])
async def reset(station_id: str, body: ResetIn, control: ControlDep) -> CommandOut:
    return _out(station_id, await control.reset(station_id, body.hard))


@router.post(
    "/stations/{station_id}/remote-start", response_model=CommandOut, dependencies=[OPERATOR]
)
async def remote_start(station_id: str, body: RemoteStartIn, control: ControlDep) -> CommandOut:
    result = await control.remote_start(
        station_id, body.evse_id, body.id_token, service.new_request_id()
    )
    return _out(station_id, result)


@router.post(
    "/stations/{station_id}/remote-stop", response_model=CommandOut, dependencies=[OPERATOR]
)
async def remote_stop(
    station_id: str, body: RemoteStopIn, session: SessionDep, control: ControlDep
) -> CommandOut:
    result = await service.remote_stop(session, control, station_id, body.transaction_id)
    return _out(station_id, result)


@router.post(
    "/stations/{station_id}/availability", response_model=CommandOut, dependencies=[OPERATOR]
)
async def availability(station_id: str, body: AvailabilityIn, control: ControlDep) -> CommandOut:
    result = await control.change_availability(
        station_id, body.evse_id, body.connector_id, body.operative
    )
    return _out(station_id, result)


@router.post("/stations/{station_id}/unlock", response_model=CommandOut, dependencies=[OPERATOR])
async def unlock(station_id: str, body: UnlockIn, control: ControlDep) -> CommandOut:
    result = await control.unlock_connector(station_id, body.evse_id, body.connector_id)
    return _out(station_id, result)


@router.post("/stations/{station_id}/trigger", response_model=CommandOut, dependencies=[OPERATOR])
async def trigger(station_id: str, body: TriggerIn, control: ControlDep) -> CommandOut:
    return _out(station_id, await control.trigger_message(station_id, body.message, body.evse_id))


@router.get(
    "/stations/{station_id}/configuration", response_model=CommandOut, dependencies=[OPERATOR]
)
async def get_configuration(station_id: str, control: ControlDep, keys: str = "") -> CommandOut:
    wanted = [k for k in keys.split(",") if k]
    return _out(station_id, await control.get_config(station_id, wanted))


@router.put("/stations/{station_id}/configuration", response_model=CommandOut, dependencies=[ADMIN])
async def set_configuration(
    station_id: str, body: ConfigurationIn, control: ControlDep
) -> CommandOut:
    return _out(station_id, await control.set_config(station_id, body.key, body.value))


@router.post(
    "/stations/{station_id}/clear-cache", response_model=CommandOut, dependencies=[OPERATOR]
)
async def clear_cache(station_id: str, control: ControlDep) -> CommandOut:
    return _out(station_id, await control.clear_cache(station_id))


@router.post("/stations/{station_id}/firmware", response_model=CommandOut, dependencies=[ADMIN])
async def update_firmware(
    station_id: str, body: FirmwareIn, control: ControlDep, clock: ClockDep
) -> CommandOut:
    request_id = service.new_request_id()
    result = await control.update_firmware(
        station_id, body.location, body.retrieve_at or clock.now(), request_id
    )
    return _out(
        station_id, CommandResult(result.status, result.detail | {"request_id": request_id})
    )


@router.post("/stations/{station_id}/logs", response_model=CommandOut, dependencies=[OPERATOR])
async def upload_logs(station_id: str, request: Request, control: ControlDep) -> CommandOut:
    """Ask the station to upload its logs to evhub's own upload endpoint."""
    request_id = service.new_request_id()
    token = upload_token(request.app.state.secret, station_id, request_id)
    location = str(
        request.url_for(
            "receive_upload_root", station_id=station_id, request_id=request_id, token=token
        )
    )
    result = await control.upload_logs(station_id, location, request_id)
    detail = result.detail | {"request_id": request_id, "location": location}
    return _out(station_id, CommandResult(result.status, detail))


@router.post(
    "/stations/{station_id}/charging-limit", response_model=CommandOut, dependencies=[OPERATOR]
)
async def charging_limit(
    station_id: str, body: ChargingLimitIn, session: SessionDep, clock: ClockDep
) -> CommandOut:
    """Cap one EVSE: stored, and applied by the planner as soon as this commits (it re-plans
    the site on the cap's event), so that no later plan overwrites it."""
    cap = await caps.set_cap(
        session, station_id, body.evse_id, body.limit_kw, body.expires_at, clock.now()
    )
    detail = {"evse_id": cap.evse_id, "limit_kw": cap.limit_kw, "expires_at": body.expires_at}
    return CommandOut(station_id=station_id, status="Accepted", detail=detail)


@router.delete(
    "/stations/{station_id}/charging-limit/{evse_id}", status_code=204, dependencies=[OPERATOR]
)
async def clear_charging_limit(
    station_id: str, evse_id: int, session: SessionDep, clock: ClockDep
) -> None:
    await caps.clear_cap(session, station_id, evse_id, clock.now())


@router.post("/operations/bulk", response_model=BulkOut, dependencies=[ADMIN])
async def bulk(body: BulkIn, session: SessionDep, control: ControlDep, clock: ClockDep) -> BulkOut:
    f = body.filter
    ids = await service.matching_stations(session, f.site_id, f.vendor, f.model, f.station_ids)
    operation = _bulk_operation(body.operation, body.params, control, clock.now)
    results = await service.run_bulk(ids, operation)
    return BulkOut(results=[_out(sid, r) for sid, r in results.items()])


def _bulk_operation(name: str, params: dict[str, Any], control: Any, now: Any) -> Any:
    if name == "reset":
        return lambda sid: control.reset(sid, bool(params.get("hard", False)))
    if name == "clear-cache":
        return lambda sid: control.clear_cache(sid)
    if name == "availability":
        operative = bool(params.get("operative", True))
        return lambda sid: control.change_availability(sid, 0, None, operative)
    if name == "configuration":
        if "key" not in params or "value" not in params:
            raise InvalidInput("configuration needs params.key and params.value")
        return lambda sid: control.set_config(sid, str(params["key"]), str(params["value"]))
    if "location" not in params:
        raise InvalidInput("firmware needs params.location")
    return lambda sid: control.update_firmware(
        sid, str(params["location"]), now(), service.new_request_id()
    )


# Stations cannot hold API keys: the upload URL itself carries an HMAC of the station and the
# request id, so only the URL handed to that station for that request is accepted.
@router.put(
    "/uploads/{station_id}/{request_id}/{token}/",
    name="receive_upload_root",
    include_in_schema=False,
)
@router.put("/uploads/{station_id}/{request_id}/{token}/{filename}")
async def receive_upload(
    station_id: str,
    request_id: DbId,
    token: str,
    request: Request,
    session: SessionDep,
    clock: ClockDep,
    filename: str = "upload.log",
) -> dict[str, object]:
    """Where stations upload diagnostics and logs (GetDiagnostics / GetLog location)."""
    if not check_upload_token(request.app.state.secret, station_id, request_id, token):
        raise NotFound("no such upload location")
    path = service.upload_path(request.app.state.settings.var_dir, station_id, request_id, filename)
    await assets.get_station(session, station_id)
    size = 0
    await anyio.Path(path.parent).mkdir(parents=True, exist_ok=True)
    async with await anyio.open_file(path, "wb") as out:
        async for chunk in request.stream():
            size += len(chunk)
            if size > service.MAX_UPLOAD_BYTES:
                raise InvalidInput("upload larger than 64 MiB")
            await out.write(chunk)
    await service.record_upload(session, station_id, request_id, path, size, clock.now())
    return {"stored": path.name, "bytes": size}


@router.post(
    "/stations/{station_id}/local-list", response_model=CommandOut, dependencies=[OPERATOR]
)
async def send_local_list(
    station_id: str, session: SessionDep, control: ControlDep, clock: ClockDep
) -> CommandOut:
    """Send the whole token list (status of every token) for offline authorisation."""
    tokens = await accounts.list_tokens(session, limit=100_000)
    version = int(clock.now().timestamp())
    entries = [(t.uid, t.status) for t in tokens]
    result = await control.send_local_list(station_id, version, entries, full=True)
    detail = result.detail | {"version": version, "entries": len(entries)}
    return _out(station_id, CommandResult(result.status, detail))


@router.get(
    "/stations/{station_id}/local-list/version", response_model=CommandOut, dependencies=[OPERATOR]
)
async def local_list_version(station_id: str, control: ControlDep) -> CommandOut:
    return _out(station_id, await control.get_local_list_version(station_id))


@router.post("/stations/{station_id}/report", response_model=CommandOut, dependencies=[OPERATOR])
async def base_report(station_id: str, control: ControlDep) -> CommandOut:
    """2.0.1 full inventory (NotifyReport, stored as station events); 1.6: its configuration."""
    request_id = service.new_request_id()
    result = await control.get_base_report(station_id, request_id)
    return _out(
        station_id, CommandResult(result.status, result.detail | {"request_id": request_id})
    )
