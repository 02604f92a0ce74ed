"""The simulated charging station: connection, loops, sessions and energy, version-neutral.

The protocol-specific part (message shapes, CSMS call handlers) lives in `v16`, `v201` and
`v21` (2.0.1's, with bidirectional cars), classes of the same name that implement
`VersionClient`; what those handlers make the station do is `commands.StationCommands`, the
EVSE types are in `evse`, the link to the CSMS in `wire`.
This module owns the rest: the WebSocket session and its tasks (one `asyncio.TaskGroup` per
connection, owned by a runner task that `stop()` awaits), the sessions the caller drives, the
meter register of each EVSE, installed charging profiles and the power each EV takes under them.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Literal, cast

import httpx
import websockets
from ocpp.charge_point import camel_to_snake_case
from websockets.typing import Subprotocol

from evhub.clock import Clock, SystemClock
from evhub.sim import v16, v21, v201
from evhub.sim.commands import StationCommands
from evhub.sim.ev import SimEV
from evhub.sim.evse import (
    ConnectorState,
    EvseRuntime,
    RemoteStart,
    Reservation,
    Sample,
    SimEvse,
    StationConfig,
    StopReason,
)
from evhub.sim.profiles import (
    ChargingProfile,
    Purpose,
    effective_limit_kw,
    evse_limit_kw,
    station_limit_kw,
)
from evhub.sim.wire import VersionClient, Wire, connection_error

__all__ = [
    "ConnectorState",
    "EvseRuntime",
    "OcppVersion",
    "RemoteStart",
    "Reservation",
    "Sample",
    "SimError",
    "SimEvse",
    "SimStation",
    "StationConfig",
    "StopReason",
    "VersionClient",
    "Wire",
]

log = logging.getLogger("evhub.sim")

OcppVersion = Literal["1.6", "2.0.1", "2.1"]


class SimError(Exception):
    """An operation the simulated hardware cannot do in its current state."""


_CLIENTS: dict[str, Callable[[SimStation, Wire], VersionClient]] = {
    "1.6": v16.ChargePointClient,
    "2.0.1": v201.ChargePointClient,
    "2.1": v21.ChargePointClient,
}


class SimStation(StationCommands):
    """A charging station speaking OCPP 1.6, 2.0.1 or 2.1 to a CSMS, driven by method calls."""

    def __init__(
        self,
        station_id: str,
        password: str,
        ocpp_version: OcppVersion,
        base_url: str,
        evses: list[SimEvse],
        *,
        vendor: str = "evhub",
        model: str = "SimCharger",
        serial: str | None = None,
        firmware: str = "1.0.0",
        clock: Clock | None = None,
        meter_interval_s: float = 60.0,
        reconnect_delay_s: float = 10.0,
        response_timeout_s: float = 30.0,
    ) -> None:
        if ocpp_version not in _CLIENTS:
            raise ValueError(f"unsupported OCPP version {ocpp_version!r}")
        self.station_id = station_id
        self.password = password
        self.ocpp_version: OcppVersion = ocpp_version
        self.base_url = base_url.rstrip("/")
        self.vendor, self.model, self.firmware = vendor, model, firmware
        self.serial = serial or f"SN-{station_id}"
        self.clock: Clock = clock or SystemClock()
        self.reconnect_delay_s = reconnect_delay_s
        self.response_timeout_s = response_timeout_s
        self.config = StationConfig(len(evses), meter_interval_s)
        self.evses = {spec.evse_id: EvseRuntime(spec) for spec in evses}
        self.profiles: list[ChargingProfile] = []
        self.profile_log: list[ChargingProfile] = []
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.event_log: deque[str] = deque(maxlen=2000)
        self.reservation_answer = "Accepted"
        self.reservation_answers: dict[int, str] = {}
        self.firmware_step_s = 5.0
        self.silent = False
        self.firmware_state = "Idle"
        self.upload_state = "Idle"
        self._firmware_request_id: int | None = None
        self._upload_request_id: int | None = None
        self.boot_status: str | None = None
        self._client: VersionClient | None = None
        self._wire: Wire | None = None
        self._tg: asyncio.TaskGroup | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._deferred: list[Callable[[], Coroutine[Any, Any, None]]] = []
        self._runner: asyncio.Task[None] | None = None
        self._ready: asyncio.Future[None] | None = None
        self._session_end = asyncio.Event()
        self._end_reason = ""
        self._stopping = False
        self._connected_once = False

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def meter_interval_s(self) -> float:
        return self.config.meter_interval_s

    @property
    def heartbeat_interval_s(self) -> float:
        return self.config.heartbeat_interval_s

    @property
    def url(self) -> str:
        return f"{self.base_url}/{self.station_id}"

    async def start(self) -> None:
        """Connect, boot until Accepted and start the loops; raise if the first connection fails."""
        if self._runner is not None:
            raise SimError("station already started")
        self._stopping = False
        self._ready = asyncio.get_running_loop().create_future()
        self._runner = asyncio.create_task(self._run(), name=f"sim-{self.station_id}")
        await self._wait_ready()

    async def stop(self, timeout_s: float = 5.0) -> None:
        """Close the connection and end every task of this station."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._stopping = True
        self._end_session("stop")
        done, _ = await asyncio.wait({runner}, timeout=timeout_s)
        if not done:
            runner.cancel()
        try:
            await runner
        except asyncio.CancelledError:
            if not done:
                return
            raise

    def go_silent(self) -> None:
        """Keep the socket open but stop sending and answering (a hung controller)."""
        self.silent = True

    async def reconnect(self, reboot: bool = False) -> None:
        """Drop the connection and connect again; `reboot` also sends a new BootNotification."""
        self.silent = False
        self._end_session("reboot" if reboot else "reconnect")
        await self._wait_ready()

    async def _wait_ready(self) -> None:
        runner, ready = self._runner, self._ready
        if runner is None or ready is None:
            raise SimError("station not started")
        await asyncio.wait({runner, ready}, return_when=asyncio.FIRST_COMPLETED)
        if runner.done():
            self._runner = None
            runner.result()
            raise SimError("station stopped before it was ready")

    def _end_session(self, reason: str) -> None:
        self._end_reason = reason
        self._ready = asyncio.get_running_loop().create_future()
        self._session_end.set()

    async def _run(self) -> None:
        boot_reason: str | None = "PowerUp"
        while not self._stopping:
            self._session_end.clear()
            self._end_reason = ""
            if self._ready is None or self._ready.done():
                self._ready = asyncio.get_running_loop().create_future()
            lost = False
            try:
                await self._session(boot_reason, self._ready)
            except BaseException as exc:  # noqa: B036 - sorted below, re-raised if not ours
                cause = connection_error(exc)
                if cause is None or not self._connected_once:
                    raise cause if cause is not None else exc from None
                log.warning("connection lost station=%s error=%r", self.station_id, cause)
                lost = True
            boot_reason = "RemoteReset" if self._end_reason == "reboot" else None
            if lost and not self._stopping:
                await self.clock.sleep(self.reconnect_delay_s)

    async def _session(self, boot_reason: str | None, ready: asyncio.Future[None]) -> None:
        """One connection: its tasks live in one TaskGroup that ends with the connection."""
        auth = base64.b64encode(f"{self.station_id}:{self.password}".encode()).decode()
        async with websockets.connect(
            self.url,
            subprotocols=[Subprotocol(f"ocpp{self.ocpp_version}")],
            additional_headers={"Authorization": f"Basic {auth}"},
        ) as ws:
            if ws.subprotocol != f"ocpp{self.ocpp_version}":
                raise SimError(f"CSMS did not accept ocpp{self.ocpp_version}")
            self._wire = Wire(ws, self)
            self._client = _CLIENTS[self.ocpp_version](self, self._wire)
            try:
                async with asyncio.TaskGroup() as tg:
                    self._tg = tg
                    self._spawn(self._client.start())
                    await self._connected(boot_reason, ready)
                    await self._session_end.wait()
                    for task in list(self._tasks):
                        task.cancel()
            finally:
                self._tg, self._client, self._wire = None, None, None
                self._deferred.clear()

    async def _connected(self, boot_reason: str | None, ready: asyncio.Future[None]) -> None:
        if boot_reason is not None:
            await self._boot(boot_reason)
        for evse in self.evses.values():
            await self._notify(evse, None)
        self._spawn(self._heartbeat_loop())
        self._spawn(self._meter_loop())
        self._connected_once = True
        if not ready.done():
            ready.set_result(None)

    async def _boot(self, reason: str) -> None:
        """OCPP 1.6 §4.2 / 2.0.1 B01: retry after `interval` until the CSMS accepts."""
        while True:
            status, interval = await self._require_client().boot(reason)
            self.boot_status = status
            if status == "Accepted":
                if interval > 0:
                    self.config.values["HeartbeatInterval"] = str(interval)
                return
            await self.clock.sleep(interval if interval > 0 else self.reconnect_delay_s)

    # -- tasks -----------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        if self._tg is None:
            coro.close()
            raise SimError("station not connected")
        task = self._tg.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _defer(self, factory: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run `factory()` once the reply to the call being handled has been sent."""
        self._deferred.append(factory)

    def _release_deferred(self) -> None:
        pending, self._deferred = self._deferred, []
        for factory in pending:
            self._spawn(self._guarded(factory))

    async def _guarded(self, factory: Callable[[], Awaitable[None]]) -> None:
        """A follow-up that fails (CSMS timeout, refused upload) is logged, not fatal."""
        try:
            await factory()
        except (TimeoutError, SimError, httpx.HTTPError) as exc:
            log.warning("follow-up failed station=%s error=%r", self.station_id, exc)

    async def _heartbeat_loop(self) -> None:
        while True:
            await self.clock.sleep(self.heartbeat_interval_s)
            if not self.silent:
                await self._guarded(self._require_client().heartbeat)

    async def _meter_loop(self) -> None:
        """Sample on a fixed grid, so slow replies or clock jumps do not make the meter drift."""
        due = self.clock.now()
        while True:
            due += timedelta(seconds=self.meter_interval_s)
            delay_s = (due - self.clock.now()).total_seconds()
            if delay_s > 0:
                await self.clock.sleep(delay_s)
            else:
                due = self.clock.now()
            await self._guarded(self.sample)

    def _require_client(self) -> VersionClient:
        if self._client is None:
            raise SimError("station not connected")
        return self._client

    def _record(self, direction: str, action: str, payload: dict[str, Any]) -> None:
        """Keep every call (snake_case, as handlers see it) for tests and the diagnostics log."""
        stamp = self.clock.now().isoformat()
        self.event_log.append(f"{stamp} {direction} {action} {json.dumps(payload)}")
        record = (action, cast(dict[str, Any], camel_to_snake_case(payload)))
        (self.received if direction == "received" else self.sent).append(record)

    # -- energy ----------------------------------------------------------------------------

    def _settle(self, evse: EvseRuntime, now: datetime) -> None:
        """Book the energy of the power applied since the last settlement."""
        if evse.ev is not None and evse.last_settle is not None and evse.power_kw != 0:
            seconds = (now - evse.last_settle).total_seconds()
            energy_kwh = evse.ev.advance(evse.power_kw, seconds)
            if energy_kwh >= 0:
                evse.import_wh += energy_kwh * 1000.0
            else:
                evse.export_wh -= energy_kwh * 1000.0
        evse.last_settle = now

    def _refresh_power(self) -> None:
        """Settle every session, then share the station cap among what each EV would take."""
        now = self.clock.now()
        active = [e for e in self.evses.values() if e.transaction_id and e.ev is not None]
        if not active:
            return
        for evse in active:
            self._settle(evse, now)
        spec = active[0].spec
        cap = station_limit_kw(self.profiles, now, spec.phases, spec.voltage)
        for evse in active:
            assert evse.ev is not None
            own = evse_limit_kw(self.profiles, evse.context(), now)
            evse.offered_kw = min(evse.spec.max_kw, own if own is not None else evse.spec.max_kw)
            if cap is not None:
                evse.offered_kw = min(evse.offered_kw, cap)
            evse.power_kw = evse.ev.accept_kw(evse.offered_kw, evse.spec.dc, evse.phases_in_use)
        total = sum(max(e.power_kw, 0.0) for e in active)
        if cap is not None and total > cap > 0:
            for evse in active:
                evse.power_kw *= cap / total if evse.power_kw > 0 else 1.0

    @staticmethod
    def _charging_state(evse: EvseRuntime) -> ConnectorState:
        if evse.power_kw != 0:
            return ConnectorState.CHARGING
        if evse.offered_kw <= 0 and not (evse.ev is not None and evse.ev.full):
            return ConnectorState.SUSPENDED_EVSE
        return ConnectorState.SUSPENDED_EV

    async def sample(self) -> None:
        """One meter interval: settle energy, apply limits, report each running transaction."""
        self._refresh_power()
        for evse in self.evses.values():
            if evse.transaction_id is None or self.silent:
                continue
            async with evse.lock:
                if evse.transaction_id is None:
                    continue
                await self._set_state(evse, self._charging_state(evse))
                await self._require_client().meter_values(evse, triggered=False)

    def current_limit_kw(self, evse_id: int) -> float:
        """The limit the station applies to `evse_id` now: rating, own profiles, station cap."""
        return effective_limit_kw(self.profiles, self.evse(evse_id).context(), self.clock.now())

    def evse(self, evse_id: int) -> EvseRuntime:
        try:
            return self.evses[evse_id]
        except KeyError:
            raise SimError(f"no EVSE {evse_id} on {self.station_id}") from None

    # -- connector state -------------------------------------------------------------------

    async def _set_state(
        self, evse: EvseRuntime, state: ConnectorState, error_code: str = "NoError"
    ) -> None:
        previous, evse.state = evse.state, state
        if previous != state or error_code != "NoError":
            await self._notify(evse, previous, error_code)

    async def _notify(
        self, evse: EvseRuntime, previous: ConnectorState | None, error_code: str = "NoError"
    ) -> None:
        if not self.silent and self._client is not None:
            await self._client.status(evse, previous, error_code)

    @staticmethod
    def _idle_state(evse: EvseRuntime) -> ConnectorState:
        if not evse.operative:
            return ConnectorState.UNAVAILABLE
        if evse.reservation is not None:
            return ConnectorState.RESERVED
        return ConnectorState.AVAILABLE

    async def send_status(self, evse_id: int, status: str, error_code: str = "NoError") -> None:
        """Fault injection: report `status` with `error_code` (2.0.1 has no error code field)."""
        await self._set_state(self.evse(evse_id), ConnectorState(status), error_code)

    async def send_raw(self, text: str, timeout_s: float = 5.0) -> str | None:
        """Fault injection: send a raw frame, return the raw reply (None if none came)."""
        if self._wire is None:
            raise SimError("station not connected")
        return await self._wire.send_raw(text, timeout_s)

    async def _set_idle(self, evse: EvseRuntime) -> None:
        async with evse.lock:
            if evse.ev is None:
                await self._set_state(evse, self._idle_state(evse))

    def _require_online(self) -> VersionClient:
        if self.silent:
            raise SimError(f"{self.station_id} is silent")
        return self._require_client()

    # -- sessions (driven by the caller) ---------------------------------------------------

    async def plug_in(self, evse_id: int, ev: SimEV, id_token: str | None = None) -> str | None:
        """Connect `ev`; with a token (or a pending remote start) authorize and start charging.

        Returns the transaction id, or None while the EV waits (no token, token rejected): a
        RemoteStartTransaction / RequestStartTransaction then starts it.
        """
        evse = self.evse(evse_id)
        client = self._require_online()
        async with evse.lock:
            if evse.ev is not None:
                raise SimError(f"EVSE {evse_id} of {self.station_id} is occupied")
            if not evse.operative or evse.state is ConnectorState.FAULTED:
                raise SimError(f"EVSE {evse_id} of {self.station_id} is out of service")
            evse.ev = ev
            await self._set_state(evse, ConnectorState.PREPARING)
            remote, evse.pending_remote = evse.pending_remote, None
            if remote is not None:  # AuthorizeRemoteTxRequests = false: no Authorize
                return await self._begin(evse, remote.id_token, remote)
            if id_token is None or not await client.authorize(id_token):
                return None
            return await self._begin(evse, id_token)

    async def unplug(self, evse_id: int) -> None:
        """The EV leaves: end its transaction (EVDisconnected), then Finishing -> Available."""
        evse = self.evse(evse_id)
        self._require_online()
        async with evse.lock:
            if evse.ev is None:
                raise SimError(f"no EV on EVSE {evse_id} of {self.station_id}")
            if evse.transaction_id is not None:
                await self._end(evse, StopReason.EV_DISCONNECTED)
                await self._set_state(evse, ConnectorState.FINISHING)
            evse.ev = None
            await self._set_state(evse, self._idle_state(evse))

    async def stop_transaction(self, evse_id: int, reason: StopReason = StopReason.LOCAL) -> None:
        """End the transaction but keep the EV plugged (driver badge, remote stop)."""
        evse = self.evse(evse_id)
        async with evse.lock:
            if evse.transaction_id is None:
                return
            await self._end(evse, reason)
            await self._set_state(
                evse, ConnectorState.FINISHING if evse.ev else self._idle_state(evse)
            )

    async def _begin(
        self, evse: EvseRuntime, id_token: str, remote: RemoteStart | None = None
    ) -> str | None:
        """Open a transaction on a plugged EVSE (lock held)."""
        now = self.clock.now()
        evse.id_token, evse.seq_no = id_token, 0
        evse.transaction_start = evse.last_settle = now
        evse.meter_start_wh = evse.import_wh
        evse.remote_start_id = remote.remote_start_id if remote else None
        reservation, evse.reservation = evse.reservation, None
        usable = (
            reservation is not None
            and reservation.id_token == id_token
            and (reservation.expiry is None or reservation.expiry > now)
        )
        evse.reservation_id = reservation.reservation_id if reservation and usable else None
        evse.id_token_type = remote.id_token_type if remote else "ISO14443"
        started = await self._require_client().start_transaction(evse, remote=remote is not None)
        if started is None:
            evse.id_token = evse.transaction_start = None
            return None
        evse.transaction_id, accepted = started
        if remote is not None and remote.profile is not None:
            profile = replace(remote.profile, evse_id=evse.evse_id, transaction_id=started[0])
            self._install(profile)
        if not accepted:  # OCPP 1.6 §4.8 StopTransactionOnInvalidId, 2.0.1 E05
            await self._end(evse, StopReason.DEAUTHORIZED)
            await self._set_state(evse, ConnectorState.FINISHING)
            return None
        self._refresh_power()
        await self._set_state(evse, self._charging_state(evse))
        return evse.transaction_id

    async def _end(self, evse: EvseRuntime, reason: StopReason) -> None:
        """Close the running transaction (lock held); its TxProfiles go with it (1.6 §3.13.1)."""
        self._refresh_power()
        evse.power_kw = evse.offered_kw = 0.0
        await self._require_client().stop_transaction(evse, reason)
        self.profiles = [
            p for p in self.profiles if not (p.purpose is Purpose.TX and p.evse_id == evse.evse_id)
        ]
        evse.transaction_id = evse.id_token = evse.transaction_start = None
        evse.remote_start_id = evse.reservation_id = None
        if evse.pending_inoperative:
            evse.operative, evse.pending_inoperative = False, False
