"""Behaviour shared by the 1.6 and 2.0.1 handlers: framing errors, routing, liveness."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ocpp.exceptions import FormatViolationError, OCPPError
from ocpp.exceptions import NotImplementedError as OcppNotImplemented
from ocpp.messages import CallError, MessageType, unpack

from evhub.assets import service as assets
from evhub.ocpp.connection import StarletteConnection
from evhub.ocpp.context import GatewayContext

log = logging.getLogger("evhub.ocpp")


def _message_id(raw: str) -> str:
    """The unique id of a frame that failed to parse, or "-1" (OCPP-J 2.0.1 §4.2.3)."""
    try:
        frame = json.loads(raw)
    except (ValueError, TypeError):
        return "-1"
    if isinstance(frame, list) and len(frame) > 1 and isinstance(frame[1], str):
        return frame[1]
    return "-1"


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _check_strict_json(raw: str) -> None:
    """NaN and Infinity are not JSON (RFC 8259 §6), though Python's parser takes them: a frame
    with one is a FormatViolation (OCPP-J 2.0.1 §4.3; the 1.6 gateway answers the same code for
    every syntax error, the name OCPP-J 1.6 errata §5.2 acknowledges). Parsed twice only when
    the text holds such a word."""
    if "NaN" not in raw and "Infinity" not in raw:
        return
    try:
        json.loads(raw, parse_constant=_refuse_constant)
    except ValueError as exc:
        raise FormatViolationError(details={"cause": str(exc)[:200]}) from exc


class CsmsEndpoint:
    """Mixed into the ocpp library's ChargePoint (CSMS side) of each version."""

    ocpp_version: str
    id: str
    route_map: Mapping[str, Any]
    _connection: StarletteConnection
    _response_queue: Any
    _unique_id_generator: Any

    def __init__(self, station_id: str, connection: StarletteConnection, ctx: GatewayContext):
        super().__init__(station_id, connection, response_timeout=ctx.response_timeout_s)  # type: ignore[call-arg]
        self.ctx = ctx
        # Ids of this side's calls still awaiting their answer: any other CallResult or
        # CallError is dropped, not queued until the next call (where it would only be skipped).
        self._awaited: set[str] = set()
        self.messages_handled = 0
        # Transaction row ids of this connection's running transactions, so that meter values
        # need no lookup: keyed by the 1.6 transaction id, or by the 2.0.1 EVSE id.
        self.transaction_pks: dict[str, int] = {}

    def now(self) -> datetime:
        return self.ctx.clock.now()

    async def start(self) -> None:
        """Serve the station's frames one at a time until the socket closes."""
        while True:
            await self.route_message(await self._connection.recv())

    async def route_message(self, raw_msg: str) -> None:
        """Like the library's, but a frame that cannot be parsed gets a CallError instead of
        silence, and an action nobody handles gets NotImplemented (OCPP-J 1.6 §4.2.3)."""
        self.messages_handled += 1
        try:
            _check_strict_json(raw_msg)
            msg = unpack(raw_msg)
        except OCPPError as error:
            log.warning("station=%s event=bad_frame code=%s", self.id, error.code)
            await self._send_error(_message_id(raw_msg), error)
            return
        if msg.message_type_id != MessageType.Call:
            self._take_response(msg)
            return
        if msg.action not in self.route_map:
            unknown = OcppNotImplemented(details={"cause": f"action {msg.action!r} is not known"})
            await self._send_error(str(msg.unique_id), unknown)
            return
        try:
            await self._handle_call(msg)  # type: ignore[attr-defined]
        except OCPPError as error:
            log.warning(
                "station=%s event=call_error action=%s code=%s", self.id, msg.action, error.code
            )
            await self._send(msg.create_call_error(error).to_json())

    async def call(
        self,
        payload: Any,
        suppress: bool = True,
        unique_id: str | None = None,
        skip_schema_validation: bool = False,
    ) -> Any:
        """The library's call, with its id known to be awaited until it returns."""
        unique_id = unique_id if unique_id is not None else str(self._unique_id_generator())
        self._awaited.add(unique_id)
        try:
            return await super().call(  # type: ignore[misc]
                payload, suppress, unique_id, skip_schema_validation
            )
        finally:
            self._awaited.discard(unique_id)

    def _take_response(self, msg: Any) -> None:
        """Queue the answer to a call in flight (once); drop and log any other (OCPP-J 1.6
        §4.1.1 / 2.0.1 §4.1.1: a result answers one call, by its id)."""
        unique_id = msg.unique_id
        if isinstance(unique_id, str) and unique_id in self._awaited:
            self._awaited.discard(unique_id)
            self._response_queue.put_nowait(msg)
            return
        log.warning(
            "station=%s event=stray_response type=%s id=%s",
            self.id, msg.message_type_id, ascii(unique_id)[:80],
        )  # fmt: skip

    async def _record(
        self,
        kind: str,
        status: str,
        detail: str = "",
        at: datetime | None = None,
        request_id: int | None = None,
    ) -> None:
        """Store a notification that is a fact about the station (firmware, logs, security)."""
        async with self.ctx.uow() as s:
            await assets.record_station_event(
                s, self.id, kind, status, self.now(), detail, request_id, at
            )

    async def _send_error(self, unique_id: str, error: OCPPError) -> None:
        frame = CallError(
            unique_id=unique_id,
            error_code=error.code,
            error_description=error.description,
            error_details=_plain(error.details),
        )
        await self._send(frame.to_json())

    async def _send(self, message: str) -> None:
        await self._connection.send(message)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self._connection.close(code, reason)


def _plain(details: Any) -> dict[str, Any]:
    """Details safe to echo: only text, never the offending message object."""
    if not isinstance(details, dict):
        return {}
    return {k: v for k, v in details.items() if isinstance(v, str | int | float)}
