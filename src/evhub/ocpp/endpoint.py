"""The OCPP-J WebSocket endpoint: subprotocol, Basic auth, then the version's handler.

Handshakes pass the guards of `ocpp.admission` (failed-login backoff, a cap on pending ones,
bounded concurrency) before any password is checked. A password is checked against the keyed
hash (microseconds, on the loop); one still stored as PBKDF2 is checked in a worker thread and,
once it verified, replaced by the keyed hash in the same commit as the connected mark."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import anyio
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketDisconnected

from evhub.assets import service as assets
from evhub.assets.credentials import (
    hash_password,
    is_slow,
    needs_rehash,
    parse_basic_auth,
    verify_password,
)
from evhub.assets.writer import Operation
from evhub.ocpp.admission import Admission
from evhub.ocpp.base import CsmsEndpoint
from evhub.ocpp.connection import StarletteConnection
from evhub.ocpp.context import GatewayContext
from evhub.ocpp.logsafe import gateway_logger
from evhub.ocpp.v16.handlers import V16Handler
from evhub.ocpp.v21.handlers import V21Handler
from evhub.ocpp.v201.handlers import V201Handler

log = gateway_logger()

HANDLERS: dict[str, type[CsmsEndpoint]] = {
    "ocpp1.6": V16Handler,
    "ocpp2.0.1": V201Handler,
    "ocpp2.1": V21Handler,
}

# RFC 6455 §7.4.1: 1008 policy violation (bad credentials), 1002 protocol error.
POLICY_VIOLATION = 1008
PROTOCOL_ERROR = 1002
# OCPP 1.6 J §3.1.1: the path's last segment is the charge point's identity, at most 48
# characters (CiString48, the length of evhub's station ids).
MAX_STATION_ID = 48


def negotiate(offered: list[str]) -> str | None:
    """The first subprotocol the station offers that evhub speaks (client's preference)."""
    return next((p for p in offered if p in HANDLERS), None)


@dataclass(frozen=True)
class _Verified:
    """A station whose password verified; `rehash` is the keyed hash to store in place of
    `stored` (None when it is keyed already)."""

    stored: str
    rehash: str | None


async def _authenticate(
    ctx: GatewayContext, station_id: str, header: str | None
) -> _Verified | None:
    creds = parse_basic_auth(header)
    if creds is None or creds[0] != station_id:
        return None
    stored = await ctx.credential_reads.stored_hash(station_id)
    if stored is None:
        return None
    key, password = ctx.credential_key, creds[1]
    if is_slow(stored):  # PBKDF2 releases the GIL: a thread keeps the loop free meanwhile
        valid = await anyio.to_thread.run_sync(verify_password, password, stored, key)
    else:
        valid = verify_password(password, stored, key)
    if not valid:
        return None
    rehash = key is not None and needs_rehash(stored)
    return _Verified(stored, hash_password(password, key) if rehash else None)


async def ocpp_websocket(websocket: WebSocket) -> None:
    """A Starlette route rather than FastAPI's: FastAPI solves a dependency graph at every
    handshake (4 % of a reconnection storm's samples) and keeps what it built (exit stacks, a
    second WebSocket object) alive as long as the socket, for the collector to scan again and
    again; the one path parameter needs none of it."""
    station_id: str = websocket.path_params["station_id"]
    ctx: GatewayContext = websocket.app.state.gateway
    admission: Admission = websocket.app.state.admission
    address = websocket.client.host if websocket.client else None
    protocol = negotiate(websocket.scope.get("subprotocols", []))
    if protocol is None:
        log.warning("station=%s event=refused reason=subprotocol", station_id)
        await websocket.close(PROTOCOL_ERROR)
        return
    if len(station_id) > MAX_STATION_ID or not station_id.isprintable():
        # No such station can exist: refuse before any look-up.
        log.warning("station=%s event=refused reason=station_id", station_id)
        await _deny(websocket, 401, "unknown station")
        return
    wait = admission.retry_after(station_id, address)
    if wait > 0:  # refused at once, without a password check nor a place in the queue
        log.warning("station=%s event=refused reason=backoff wait_s=%.1f", station_id, wait)
        await _deny(websocket, 401, "too many failed logins", retry_after_s=wait)
        return
    async with admission.handshake() as admitted:
        if not admitted:
            log.warning("station=%s event=refused reason=handshakes_pending", station_id)
            await _deny(websocket, 503, "too many handshakes pending", retry_after_s=5)
            return
        header = websocket.headers.get("authorization")
        verified = await _authenticate(ctx, station_id, header)
        if verified is None:
            admission.login_failed(station_id, address)
            log.warning("station=%s event=refused reason=authentication", station_id)
            await _deny(websocket, 401, "wrong station id or password")
            return
        admission.login_succeeded(station_id, address)
        await websocket.accept(subprotocol=protocol)
        handler = HANDLERS[protocol](station_id, StarletteConnection(websocket), ctx)
        await ctx.registry.attach(handler)
    # Out of the handshake slot: the mark waits for the group commit, whose batches bound the
    # database's share of a storm by themselves (holding the slot meanwhile measured slower:
    # the slots then wait on commits). The station's first message queues behind the mark.
    try:
        await ctx.station_writer.submit(_connected(station_id, handler.ocpp_version, verified, ctx))
    except Exception:
        log.exception("station=%s event=connect_not_recorded", station_id)
        ctx.registry.detach(handler)
        await handler.close(1011)  # RFC 6455 §7.4.1: the server cannot serve it now
        return
    log.info("station=%s event=connected protocol=%s", station_id, protocol)
    await _serve(ctx, handler, station_id)


async def _serve(ctx: GatewayContext, handler: CsmsEndpoint, station_id: str) -> None:
    try:
        await handler.start()
    except (WebSocketDisconnect, WebSocketDisconnected):
        pass  # the station went away, possibly while we were answering it
    except Exception:
        log.exception("station=%s event=connection_failed", station_id)
    finally:
        with anyio.CancelScope(shield=True):
            released = await ctx.registry.release(handler)  # never another node's station
            if released and not ctx.leaving:
                try:
                    await ctx.station_writer.submit(
                        _disconnected(station_id, handler.ocpp_version, ctx.clock.now())
                    )
                except Exception:  # a restart marks the stations of no live node offline
                    log.exception("station=%s event=disconnect_not_recorded", station_id)
        log.info("station=%s event=disconnected", station_id)


async def leave(ctx: GatewayContext) -> int:
    """Before a stopping node closes its stations' sockets: mark them all offline in one
    transaction, each with its `station.disconnected`, so that a stop does not queue a mark
    per socket behind the shutdown's deadline (5,000 stations: about half were cancelled,
    each with a traceback, and their events never written). How many were marked."""
    station_ids = ctx.registry.station_ids()
    if not station_ids:
        return 0
    try:
        async with ctx.uow() as session:
            await assets.mark_lost(session, station_ids, ctx.clock.now())
    except Exception:  # each socket then writes its own mark, as it closes
        log.exception("event=stop_marks_failed stations=%d", len(station_ids))
        return 0
    ctx.leaving = True
    log.info("event=stations_marked_offline stations=%d", len(station_ids))
    return len(station_ids)


async def leave_app(app: Starlette) -> None:
    """`leave` for the app's gateway, which a start-up that failed never set."""
    gateway: GatewayContext | None = getattr(app.state, "gateway", None)
    if gateway is not None:
        await leave(gateway)


def _connected(
    station_id: str, ocpp_version: str, verified: _Verified, ctx: GatewayContext
) -> Operation[None]:
    async def write(s: AsyncSession) -> None:
        await assets.mark_connected(s, station_id, ocpp_version, True, ctx.clock.now())
        if verified.rehash is not None:
            await assets.replace_password_hash(s, station_id, verified.stored, verified.rehash)

    return write


def _disconnected(station_id: str, ocpp_version: str, now: datetime) -> Operation[None]:
    async def write(s: AsyncSession) -> None:
        await assets.mark_connected(s, station_id, ocpp_version, False, now)

    return write


async def _deny(
    websocket: WebSocket, status_code: int, reason: str, retry_after_s: float | None = None
) -> None:
    """Refuse the handshake with an HTTP status (RFC 7235 §3.1: 401 names the Basic scheme)
    where the server allows it, else with close code 1008 (uvicorn answers that with 403)."""
    if "websocket.http.response" not in websocket.scope.get("extensions", {}):
        await websocket.close(POLICY_VIOLATION)
        return
    headers = {"WWW-Authenticate": 'Basic realm="evhub"'} if status_code == 401 else {}
    if retry_after_s is not None:
        headers["Retry-After"] = str(max(math.ceil(retry_after_s), 1))
    await websocket.send_denial_response(PlainTextResponse(reason, status_code, headers))
