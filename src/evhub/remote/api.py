"""REST routes for remote operations: the station's answer, or 409 when offline, 504 when silent."""

from __future__ import annotations

import secrets
import time
from typing import Any

import anyio
from fastapi import APIRouter, HTTPException, Request, status

from evhub.accounts import service as accounts
from evhub.auth.deps import ADMIN, OPERATOR
from evhub.auth.signing import check_upload_token, upload_token
from evhub.control import CommandResult
from evhub.deps import ClockDep, ControlDep, GatewayDep, SessionDep, UowDep
from evhub.errors import InvalidInput, NotFound
from evhub.openapi import error_responses
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
from evhub.settings import Settings

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
    station_id: str, body: RemoteStopIn, uow: UowDep, control: ControlDep
) -> CommandOut:
    result = await service.remote_stop(uow, control, station_id, body.transaction_id)
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
    settings: Settings = request.app.state.settings
    expires_at = int(time.time() + settings.upload_url_ttl_s)
    token = upload_token(request.app.state.secret, station_id, request_id, expires_at)
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
    station_id: str, evse_id: DbId, session: SessionDep, clock: ClockDep
) -> None:
    await caps.clear_cap(session, station_id, evse_id, clock.now())


@router.post("/operations/bulk", response_model=BulkOut, dependencies=[ADMIN])
async def bulk(body: BulkIn, uow: UowDep, control: ControlDep, clock: ClockDep) -> BulkOut:
    f = body.filter
    async with uow() as session:  # closed before any station is called
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


# Stations cannot hold API keys: the upload URL itself carries an HMAC of the station, the
# request id and the URL's expiry, so only the URL handed to that station for that request is
# accepted, until it expires, and for one file (a second upload to it is a 409).
@router.put(
    "/uploads/{station_id}/{request_id}/{token}/",
    name="receive_upload_root",
    include_in_schema=False,
)
@router.put(
    "/uploads/{station_id}/{request_id}/{token}/{filename}",
    responses=error_responses(404, 409, 410, 413, 422),
)
async def receive_upload(
    station_id: str,
    request_id: DbId,
    token: str,
    request: Request,
    gateway: GatewayDep,
    filename: str = "upload.log",
) -> dict[str, object]:
    """Where stations upload diagnostics and logs (GetDiagnostics / GetLog location).

    The body is streamed to a temporary file and refused with 413 as soon as it passes
    `upload_max_bytes`; it becomes the request's file only once it is whole. No database
    connection is held while the body streams in."""
    verdict = check_upload_token(
        request.app.state.secret, station_id, request_id, token, time.time()
    )
    if verdict == "expired":
        raise HTTPException(status.HTTP_410_GONE, "this upload URL has expired")
    if verdict != "valid":
        raise NotFound("no such upload location")
    settings: Settings = request.app.state.settings
    path = service.upload_path(settings.var_dir, station_id, request_id, filename)
    async with gateway.uow() as session:
        await service.check_upload_open(session, station_id, request_id)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.upload_max_bytes:
        raise _too_large(settings.upload_max_bytes)
    partial = path.with_name(f".{path.name}.{secrets.token_hex(8)}.part")
    try:
        size = await _receive(request, anyio.Path(partial), settings.upload_max_bytes)
        async with gateway.uow() as session:
            await service.record_upload(
                session, station_id, request_id, path, size, gateway.clock.now()
            )
        await anyio.Path(partial).rename(path)
    finally:
        await anyio.Path(partial).unlink(missing_ok=True)
    return {"stored": path.name, "bytes": size}


async def _receive(request: Request, partial: anyio.Path, max_bytes: int) -> int:
    """Stream the body into `partial`, chunk by chunk; 413 past `max_bytes`."""
    size = 0
    await partial.parent.mkdir(parents=True, exist_ok=True)
    async with await anyio.open_file(partial, "wb") as out:
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                raise _too_large(max_bytes)
            await out.write(chunk)
    return size


def _too_large(max_bytes: int) -> HTTPException:
    return HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE, f"an upload holds at most {max_bytes} bytes"
    )


@router.post(
    "/stations/{station_id}/local-list", response_model=CommandOut, dependencies=[OPERATOR]
)
async def send_local_list(
    station_id: str, uow: UowDep, control: ControlDep, clock: ClockDep
) -> CommandOut:
    """Send the whole token list (status of every token) for offline authorisation; read in
    a transaction of its own, closed before the station is called."""
    async with uow() as session:
        entries = [(t.uid, t.status) for t in await accounts.list_tokens(session, limit=100_000)]
    version = int(clock.now().timestamp())
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
