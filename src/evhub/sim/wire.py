"""A simulated station's link to the CSMS.

The WebSocket as the ocpp library sees it (`Wire`), what the station needs from a protocol version
(`VersionClient`, implemented by `v16` and `v201`) and which errors mean the link is gone.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any, Protocol

from websockets.exceptions import ConnectionClosed, InvalidHandshake

if TYPE_CHECKING:
    from evhub.sim.evse import ConnectorState, EvseRuntime, StopReason
    from evhub.sim.station import SimStation

_CONNECTION_ERRORS = (ConnectionClosed, InvalidHandshake, OSError, TimeoutError)


class VersionClient(Protocol):
    """What the station needs from a protocol version (implemented by v16 and v201).

    `status` reports the EVSE's current state; `previous` None means "report it regardless".
    `start_transaction` returns (transaction id, accepted), or None when the CSMS refused it.
    """

    async def start(self) -> None: ...
    async def boot(self, reason: str) -> tuple[str, int]: ...
    async def heartbeat(self) -> None: ...
    async def status(
        self, evse: EvseRuntime, previous: ConnectorState | None, error_code: str
    ) -> None: ...
    async def authorize(self, id_token: str) -> bool: ...
    async def start_transaction(
        self, evse: EvseRuntime, remote: bool
    ) -> tuple[str, bool] | None: ...
    async def meter_values(self, evse: EvseRuntime, triggered: bool) -> None: ...
    async def stop_transaction(self, evse: EvseRuntime, reason: StopReason) -> None: ...
    async def firmware_status(self, status: str, request_id: int | None) -> None: ...
    async def upload_status(self, status: str, request_id: int | None) -> None: ...


def _frame_head(frame: str) -> tuple[int | None, str | None, str | None, dict[str, Any]]:
    """(message type, unique id, action, payload) of an OCPP-J frame; Nones when malformed."""
    try:
        msg = json.loads(frame)
        kind, msg_id = int(msg[0]), str(msg[1])
    except (ValueError, TypeError, IndexError, KeyError):
        return None, None, None, {}
    if kind == 2 and len(msg) >= 4 and isinstance(msg[3], dict):
        return kind, msg_id, str(msg[2]), msg[3]
    return kind, msg_id, None, {}


class Wire:
    """The WebSocket as the ocpp library sees it (recv/send), plus recording and raw frames.

    `recv()` is called by the library's loop only after the previous message was fully handled,
    so it is where follow-ups of a handled call (e.g. FirmwareStatusNotification after an
    UpdateFirmware reply) are released: they can never overtake the reply.
    """

    def __init__(self, ws: Any, station: SimStation) -> None:
        self._ws = ws
        self._station = station
        self._pending_ids: set[str] = set()
        self._raw_reply: asyncio.Future[str | None] | None = None

    async def recv(self) -> str:
        self._station._release_deferred()
        while True:
            try:
                data = await self._ws.recv()
            except ConnectionClosed:
                if self._raw_reply is not None and not self._raw_reply.done():
                    self._raw_reply.set_result(None)
                raise
            frame = data.decode() if isinstance(data, bytes) else str(data)
            if self._station.silent:
                continue
            kind, msg_id, action, payload = _frame_head(frame)
            if kind == 2 and action is not None:
                self._station._record("received", action, payload)
            elif msg_id is not None and msg_id in self._pending_ids:
                self._pending_ids.discard(msg_id)
            elif self._raw_reply is not None and not self._raw_reply.done():
                self._raw_reply.set_result(frame)
                continue
            return frame

    async def send(self, frame: str) -> None:
        kind, msg_id, action, payload = _frame_head(frame)
        if kind == 2 and msg_id is not None and action is not None:
            self._pending_ids.add(msg_id)
            self._station._record("sent", action, payload)
        await self._ws.send(frame)

    async def send_raw(self, text: str, timeout_s: float) -> str | None:
        """Send `text` as is; return the CSMS's reply frame, or None (no reply, closed)."""
        self._raw_reply = asyncio.get_running_loop().create_future()
        try:
            await self._ws.send(text)
            return await asyncio.wait_for(self._raw_reply, timeout_s)
        except (TimeoutError, ConnectionClosed):
            return None
        finally:
            self._raw_reply = None


def connection_error(exc: BaseException) -> BaseException | None:
    """The first underlying error when `exc` is (a group of) connection failures only."""
    if isinstance(exc, BaseExceptionGroup):
        leaves = [connection_error(e) for e in exc.exceptions]
        return leaves[0] if leaves and all(leaves) else None
    return exc if isinstance(exc, _CONNECTION_ERRORS) else None
