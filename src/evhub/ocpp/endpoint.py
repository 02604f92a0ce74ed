"""The OCPP-J WebSocket endpoint: subprotocol, Basic auth, then the version's handler."""

from __future__ import annotations

import hashlib
import hmac
import logging

import anyio
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketDisconnected

from evhub.assets import service as assets
from evhub.assets.credentials import parse_basic_auth, verify_password
from evhub.assets.models import Station
from evhub.ocpp.base import CsmsEndpoint
from evhub.ocpp.connection import StarletteConnection
from evhub.ocpp.context import GatewayContext
from evhub.ocpp.v16.handlers import V16Handler
from evhub.ocpp.v201.handlers import V201Handler

log = logging.getLogger("evhub.ocpp")

HANDLERS: dict[str, type[CsmsEndpoint]] = {"ocpp1.6": V16Handler, "ocpp2.0.1": V201Handler}

# RFC 6455 §7.4.1: 1008 policy violation (bad credentials), 1002 protocol error.
POLICY_VIOLATION = 1008
PROTOCOL_ERROR = 1002


def negotiate(offered: list[str]) -> str | None:
    """The first subprotocol the station offers that evhub speaks (client's preference)."""
    return next((p for p in offered if p in HANDLERS), None)


async def _authenticate(ctx: GatewayContext, station_id: str, header: str | None) -> bool:
    creds = parse_basic_auth(header)
    if creds is None or creds[0] != station_id:
        return False
    async with ctx.uow() as s:
        station = await s.get(Station, station_id)
        stored = station.password_hash if station else None
    if stored is None:
        return False
    digest = hashlib.sha256(f"{creds[1]}\0{stored}".encode()).digest()
    cached = ctx.verified_credentials.get(station_id)
    if cached is not None and hmac.compare_digest(cached, digest):
        return True
    # PBKDF2 releases the GIL: verify in a thread so a connection storm keeps the loop free.
    if await anyio.to_thread.run_sync(verify_password, creds[1], stored):
        ctx.verified_credentials[station_id] = digest
        return True
    return False


async def ocpp_websocket(websocket: WebSocket, station_id: str) -> None:
    ctx: GatewayContext = websocket.app.state.gateway
    protocol = negotiate(websocket.scope.get("subprotocols", []))
    if protocol is None:
        log.warning("station=%s event=refused reason=subprotocol", station_id)
        await websocket.close(PROTOCOL_ERROR)
        return
    if not await _authenticate(ctx, station_id, websocket.headers.get("authorization")):
        log.warning("station=%s event=refused reason=authentication", station_id)
        await websocket.close(POLICY_VIOLATION)
        return
    await websocket.accept(subprotocol=protocol)
    handler = HANDLERS[protocol](station_id, StarletteConnection(websocket), ctx)
    await ctx.registry.attach(handler)
    async with ctx.uow() as s:
        await assets.mark_connected(s, station_id, handler.ocpp_version, True, ctx.clock.now())
    log.info("station=%s event=connected protocol=%s", station_id, protocol)
    try:
        await handler.start()
    except (WebSocketDisconnect, WebSocketDisconnected):
        pass  # the station went away, possibly while we were answering it
    except Exception:
        log.exception("station=%s event=connection_failed", station_id)
    finally:
        if ctx.registry.detach(handler):
            with anyio.CancelScope(shield=True):
                async with ctx.uow() as s:
                    await assets.mark_connected(
                        s, station_id, handler.ocpp_version, False, ctx.clock.now()
                    )
        log.info("station=%s event=disconnected", station_id)
