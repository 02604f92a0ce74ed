"""ChargerControl across nodes: the local registry answers for its own stations, a NATS request
on the station's subject reaches the node that holds any other one.

The holder subscribes to the station's subject while the socket is attached (see `presence`);
a node that has lost the socket does not answer, so the holder's answer is the one received.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from nats.aio.client import Client as Nats
from nats.aio.msg import Msg
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout

from evhub.cluster import wire
from evhub.control import ChargerControl, ChargingLimit, CommandResult, ProfilePurpose
from evhub.errors import StationTimeout, StationUnavailable

log = logging.getLogger("evhub.cluster")

# How much longer than a station's own answer time a remote caller waits for the holder.
RELAY_MARGIN_S = 5.0


class CommandResponder:
    """Answers the NATS requests for the stations attached here, each in its own task of one
    task group, so that a slow station holds up no other command."""

    def __init__(self, local: ChargerControl) -> None:
        self.local = local
        self._inbox: asyncio.Queue[Msg] = asyncio.Queue()

    async def receive(self, msg: Msg) -> None:
        """The subscription callback: queue the request for `run`'s task group."""
        self._inbox.put_nowait(msg)

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            while True:
                group.create_task(self._answer(await self._inbox.get()))

    async def _answer(self, msg: Msg) -> None:
        try:
            method, station_id, kwargs = wire.decode_call(msg.data)
            if not self.local.is_connected(station_id):
                return  # the socket has moved: its new holder answers
            try:
                result = await getattr(self.local, method)(station_id, **kwargs)
                reply = wire.encode_result(result)
            except StationTimeout as exc:
                reply = wire.encode_error("timeout", exc.message)
            except StationUnavailable as exc:
                reply = wire.encode_error("unavailable", exc.message)
            await msg.respond(reply)
        except Exception:  # one bad request must not stop the others
            log.exception("event=command_relay_failed subject=%s", msg.subject)


class ClusterChargerControl:
    """Implements evhub.control.ChargerControl for every station of the cluster."""

    def __init__(
        self,
        local: ChargerControl,
        nats: Nats,
        remote_present: Callable[[str], bool],
        response_timeout_s: float,
    ) -> None:
        self.local = local
        self.nats = nats
        self.remote_present = remote_present
        self.timeout_s = response_timeout_s + RELAY_MARGIN_S

    def is_connected(self, station_id: str) -> bool:
        return self.local.is_connected(station_id) or self.remote_present(station_id)

    async def _call(self, method: str, station_id: str, **kwargs: Any) -> CommandResult:
        if self.local.is_connected(station_id):
            result: CommandResult = await getattr(self.local, method)(station_id, **kwargs)
            return result
        payload = wire.encode_call(method, station_id, kwargs)
        try:
            msg = await self.nats.request(
                wire.command_subject(station_id), payload, timeout=self.timeout_s
            )
        except NoRespondersError as exc:
            raise StationUnavailable(f"station {station_id!r} is not connected") from exc
        except NatsTimeout as exc:
            raise StationTimeout(f"station {station_id!r} did not answer in time") from exc
        reply = wire.decode_reply(msg.data)
        if isinstance(reply, CommandResult):
            return reply
        kind, message = reply
        raise (StationTimeout if kind == "timeout" else StationUnavailable)(message)

    async def set_charging_limit(self, station_id: str, limit: ChargingLimit) -> CommandResult:
        return await self._call("set_charging_limit", station_id, limit=limit)

    async def clear_charging_limit(
        self, station_id: str, evse_id: int | None, purpose: ProfilePurpose
    ) -> CommandResult:
        return await self._call(
            "clear_charging_limit", station_id, evse_id=evse_id, purpose=purpose
        )

    async def remote_start(
        self, station_id: str, evse_id: int, id_token: str, remote_start_id: int
    ) -> CommandResult:
        return await self._call(
            "remote_start", station_id, evse_id=evse_id, id_token=id_token,
            remote_start_id=remote_start_id,
        )  # fmt: skip

    async def remote_stop(self, station_id: str, transaction_id: str) -> CommandResult:
        return await self._call("remote_stop", station_id, transaction_id=transaction_id)

    async def reset(self, station_id: str, hard: bool) -> CommandResult:
        return await self._call("reset", station_id, hard=hard)

    async def change_availability(
        self, station_id: str, evse_id: int, connector_id: int | None, operative: bool
    ) -> CommandResult:
        return await self._call(
            "change_availability", station_id, evse_id=evse_id, connector_id=connector_id,
            operative=operative,
        )  # fmt: skip

    async def unlock_connector(
        self, station_id: str, evse_id: int, connector_id: int
    ) -> CommandResult:
        return await self._call(
            "unlock_connector", station_id, evse_id=evse_id, connector_id=connector_id
        )

    async def trigger_message(
        self, station_id: str, message: str, evse_id: int | None
    ) -> CommandResult:
        return await self._call("trigger_message", station_id, message=message, evse_id=evse_id)

    async def reserve_now(
        self,
        station_id: str,
        evse_id: int,
        reservation_id: int,
        id_token: str,
        expires_at: datetime,
        group_id: str | None,
    ) -> CommandResult:
        return await self._call(
            "reserve_now", station_id, evse_id=evse_id, reservation_id=reservation_id,
            id_token=id_token, expires_at=expires_at, group_id=group_id,
        )  # fmt: skip

    async def cancel_reservation(self, station_id: str, reservation_id: int) -> CommandResult:
        return await self._call("cancel_reservation", station_id, reservation_id=reservation_id)

    async def get_config(self, station_id: str, keys: list[str]) -> CommandResult:
        return await self._call("get_config", station_id, keys=keys)

    async def set_config(self, station_id: str, key: str, value: str) -> CommandResult:
        return await self._call("set_config", station_id, key=key, value=value)

    async def clear_cache(self, station_id: str) -> CommandResult:
        return await self._call("clear_cache", station_id)

    async def update_firmware(
        self, station_id: str, location: str, retrieve_at: datetime, request_id: int
    ) -> CommandResult:
        return await self._call(
            "update_firmware", station_id, location=location, retrieve_at=retrieve_at,
            request_id=request_id,
        )  # fmt: skip

    async def upload_logs(self, station_id: str, location: str, request_id: int) -> CommandResult:
        return await self._call("upload_logs", station_id, location=location, request_id=request_id)

    async def send_local_list(
        self, station_id: str, version: int, entries: list[tuple[str, str]], full: bool
    ) -> CommandResult:
        return await self._call(
            "send_local_list", station_id, version=version, entries=entries, full=full
        )

    async def get_local_list_version(self, station_id: str) -> CommandResult:
        return await self._call("get_local_list_version", station_id)

    async def get_base_report(self, station_id: str, request_id: int) -> CommandResult:
        return await self._call("get_base_report", station_id, request_id=request_id)
