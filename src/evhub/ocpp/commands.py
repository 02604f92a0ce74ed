"""ChargerControl over OCPP: each command goes to the station's live connection on this node."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ocpp.exceptions import OCPPError
from starlette.websockets import WebSocketDisconnect

from evhub.control import ChargingLimit, CommandResult, ProfilePurpose
from evhub.errors import StationTimeout, StationUnavailable
from evhub.ocpp.payloads import Call, CommandPayloads
from evhub.ocpp.registry import ConnectionRegistry
from evhub.ocpp.v16.commands import V16Payloads
from evhub.ocpp.v21.commands import V21Payloads
from evhub.ocpp.v201.commands import V201Payloads

log = logging.getLogger("evhub.ocpp")

PAYLOADS: dict[str, CommandPayloads] = {
    "1.6": V16Payloads(),
    "2.0.1": V201Payloads(),
    "2.1": V21Payloads(),
}
Build = Callable[[CommandPayloads], Call]


def _result(reply: Any) -> CommandResult:
    """A CommandResult from a call_result dataclass; replies without a status are Accepted."""
    fields = {k: v for k, v in dataclasses.asdict(reply).items() if v is not None}
    status = fields.pop("status", "Accepted")
    if isinstance(status, dict):  # 2.0.1 replies such as GetLog carry a StatusInfo beside it
        status = status.get("status", "Accepted")
    results = fields.get("set_variable_result") or fields.get("get_variable_result")
    if results:
        statuses = {r.get("attribute_status") for r in results}
        status = "Accepted" if statuses == {"Accepted"} else "Rejected"
    return CommandResult(str(status), fields)


class OcppChargerControl:
    """Implements evhub.control.ChargerControl for stations connected to this node."""

    def __init__(self, registry: ConnectionRegistry) -> None:
        self.registry = registry

    def is_connected(self, station_id: str) -> bool:
        return station_id in self.registry

    def _payloads(self, station_id: str) -> tuple[Any, CommandPayloads]:
        link = self.registry.get(station_id)
        if link is None:
            raise StationUnavailable(f"station {station_id!r} is not connected")
        return link, PAYLOADS.get(link.ocpp_version, PAYLOADS["2.0.1"])

    async def _send(self, station_id: str, link: Any, payload: Any) -> CommandResult:
        action = type(payload).__name__
        try:
            reply = await link.call(payload, suppress=False)
        except TimeoutError as exc:
            raise StationTimeout(f"station {station_id!r} did not answer {action} in time") from exc
        except OCPPError as exc:
            log.warning(
                "station=%s event=command_error action=%s code=%s", station_id, action, exc.code
            )
            return CommandResult("CallError", {"code": exc.code, "description": exc.description})
        # A socket that closes while the call goes out raises Starlette's own error, which is
        # neither of the others: the station is gone all the same.
        except (ConnectionError, RuntimeError, WebSocketDisconnect) as exc:
            raise StationUnavailable(
                f"station {station_id!r} disconnected during {action}"
            ) from exc
        result = _result(reply)
        log.info("station=%s event=command action=%s status=%s", station_id, action, result.status)
        return result

    async def _do(self, station_id: str, build: Build) -> CommandResult:
        link, payloads = self._payloads(station_id)
        return await self._send(station_id, link, build(payloads))

    async def set_charging_limit(self, station_id: str, limit: ChargingLimit) -> CommandResult:
        return await self._do(station_id, lambda p: p.set_charging_limit(limit))

    async def clear_charging_limit(
        self, station_id: str, evse_id: int | None, purpose: ProfilePurpose
    ) -> CommandResult:
        return await self._do(station_id, lambda p: p.clear_charging_limit(evse_id, purpose))

    async def remote_start(
        self, station_id: str, evse_id: int, id_token: str, remote_start_id: int
    ) -> CommandResult:
        return await self._do(
            station_id, lambda p: p.remote_start(evse_id, id_token, remote_start_id)
        )

    async def remote_stop(self, station_id: str, transaction_id: str) -> CommandResult:
        return await self._do(station_id, lambda p: p.remote_stop(transaction_id))

    async def reset(self, station_id: str, hard: bool) -> CommandResult:
        return await self._do(station_id, lambda p: p.reset(hard))

    async def change_availability(
        self, station_id: str, evse_id: int, connector_id: int | None, operative: bool
    ) -> CommandResult:
        return await self._do(
            station_id, lambda p: p.change_availability(evse_id, connector_id, operative)
        )

    async def unlock_connector(
        self, station_id: str, evse_id: int, connector_id: int
    ) -> CommandResult:
        return await self._do(station_id, lambda p: p.unlock_connector(evse_id, connector_id))

    async def trigger_message(
        self, station_id: str, message: str, evse_id: int | None
    ) -> CommandResult:
        return await self._do(station_id, lambda p: p.trigger_message(message, evse_id))

    async def reserve_now(
        self,
        station_id: str,
        evse_id: int,
        reservation_id: int,
        id_token: str,
        expires_at: datetime,
        group_id: str | None,
    ) -> CommandResult:
        return await self._do(
            station_id,
            lambda p: p.reserve_now(evse_id, reservation_id, id_token, expires_at, group_id),
        )

    async def cancel_reservation(self, station_id: str, reservation_id: int) -> CommandResult:
        return await self._do(station_id, lambda p: p.cancel_reservation(reservation_id))

    async def get_config(self, station_id: str, keys: list[str]) -> CommandResult:
        return await self._do(station_id, lambda p: p.get_config(keys))

    async def set_config(self, station_id: str, key: str, value: str) -> CommandResult:
        return await self._do(station_id, lambda p: p.set_config(key, value))

    async def clear_cache(self, station_id: str) -> CommandResult:
        return await self._do(station_id, lambda p: p.clear_cache())

    async def update_firmware(
        self, station_id: str, location: str, retrieve_at: datetime, request_id: int
    ) -> CommandResult:
        return await self._do(
            station_id, lambda p: p.update_firmware(location, retrieve_at, request_id)
        )

    async def upload_logs(self, station_id: str, location: str, request_id: int) -> CommandResult:
        return await self._do(station_id, lambda p: p.upload_logs(location, request_id))

    async def send_local_list(
        self, station_id: str, version: int, entries: list[tuple[str, str]], full: bool
    ) -> CommandResult:
        return await self._do(station_id, lambda p: p.send_local_list(version, entries, full))

    async def get_local_list_version(self, station_id: str) -> CommandResult:
        return await self._do(station_id, lambda p: p.get_local_list_version())

    async def get_base_report(self, station_id: str, request_id: int) -> CommandResult:
        return await self._do(station_id, lambda p: p.get_base_report(request_id))
