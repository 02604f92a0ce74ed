"""The simulated charging station: connection, loops, EVSE state and energy, version-neutral.

The protocol-specific part (message shapes, CSMS call handlers) lives in `v16` and `v201`, two
classes of the same name that implement `VersionClient`. This module owns everything else: the
WebSocket session and its tasks (one `asyncio.TaskGroup` per connection, owned by a runner task
that `stop()` awaits), the meter register of each EVSE, installed charging profiles and the power
each EV takes under them.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Any, Literal, Protocol, cast

import httpx
import websockets
from ocpp.charge_point import camel_to_snake_case
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.typing import Subprotocol

from evhub.clock import Clock, SystemClock
from evhub.sim import v16, v201
from evhub.sim.ev import SimEV
from evhub.sim.profiles import (
    STATION_PURPOSES,
    ChargingProfile,
    EvseContext,
    Purpose,
    effective_limit_kw,
    evse_limit_kw,
    station_limit_kw,
)

log = logging.getLogger("evhub.sim")

OcppVersion = Literal["1.6", "2.0.1"]
_CONNECTION_ERRORS = (ConnectionClosed, InvalidHandshake, OSError, TimeoutError)


class SimError(Exception):
    """An operation the simulated hardware cannot do in its current state."""


class ConnectorState(StrEnum):
    """Connector states; the values are OCPP 1.6 ChargePointStatus, v201 maps them (§4.9)."""

    AVAILABLE = "Available"
    PREPARING = "Preparing"
    CHARGING = "Charging"
    SUSPENDED_EV = "SuspendedEV"
    SUSPENDED_EVSE = "SuspendedEVSE"
    FINISHING = "Finishing"
    RESERVED = "Reserved"
    UNAVAILABLE = "Unavailable"
    FAULTED = "Faulted"


class StopReason(StrEnum):
    """Why a transaction ends; the values are OCPP 1.6 Reason, v201 maps them."""

    EV_DISCONNECTED = "EVDisconnected"
    REMOTE = "Remote"
    SOFT_RESET = "SoftReset"
    HARD_RESET = "HardReset"
    UNLOCK_COMMAND = "UnlockCommand"
    DEAUTHORIZED = "DeAuthorized"
    LOCAL = "Local"


@dataclass
class SimEvse:
    """Hardware description of one EVSE (one connector each in this simulator)."""

    evse_id: int
    dc: bool = False
    max_kw: float = 22.0
    phases: int = 3
    voltage: float = 230.0


@dataclass(frozen=True)
class Sample:
    measurand: str
    value: float
    unit: str
    phase: str | None = None


@dataclass(frozen=True)
class RemoteStart:
    id_token: str
    remote_start_id: int | None = None
    profile: ChargingProfile | None = None
    id_token_type: str = "Central"


@dataclass(frozen=True)
class Reservation:
    reservation_id: int
    evse_id: int
    id_token: str
    expiry: datetime | None


@dataclass
class EvseRuntime:
    """Live state of one EVSE: plugged EV, transaction and meter register."""

    spec: SimEvse
    state: ConnectorState = ConnectorState.AVAILABLE
    operative: bool = True
    pending_inoperative: bool = False
    ev: SimEV | None = None
    id_token: str | None = None
    id_token_type: str = "ISO14443"
    transaction_id: str | None = None
    transaction_start: datetime | None = None
    remote_start_id: int | None = None
    reservation_id: int | None = None
    meter_start_wh: float = 0.0
    import_wh: float = 0.0
    export_wh: float = 0.0
    power_kw: float = 0.0
    offered_kw: float = 0.0
    last_settle: datetime | None = None
    seq_no: int = 0
    pending_remote: RemoteStart | None = None
    reservation: Reservation | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def evse_id(self) -> int:
        return self.spec.evse_id

    @property
    def phases_in_use(self) -> int:
        if self.spec.dc or self.ev is None:
            return self.spec.phases
        return min(self.spec.phases, self.ev.ac_phases)

    def next_seq_no(self) -> int:
        """OCPP 2.0.1 E01: seqNo counts the TransactionEvents of one transaction from 0."""
        seq = self.seq_no
        self.seq_no += 1
        return seq

    def context(self) -> EvseContext:
        return EvseContext(
            evse_id=self.evse_id,
            max_kw=self.spec.max_kw,
            phases=self.phases_in_use,
            voltage=self.spec.voltage,
            transaction_id=self.transaction_id,
            transaction_start=self.transaction_start,
        )

    def samples(self) -> list[Sample]:
        """What the meter reports: register (Wh), power (W), current per phase (AC) or SoC (DC)."""
        power_w = self.power_kw * 1000.0
        out = [
            Sample("Energy.Active.Import.Register", round(self.import_wh), "Wh"),
            Sample("Power.Active.Import", round(max(power_w, 0.0), 1), "W"),
        ]
        if self.export_wh > 0 or power_w < 0:
            out.append(Sample("Energy.Active.Export.Register", round(self.export_wh), "Wh"))
            out.append(Sample("Power.Active.Export", round(max(-power_w, 0.0), 1), "W"))
        if not self.spec.dc:
            amps = abs(power_w) / (self.phases_in_use * self.spec.voltage)
            for n in range(1, self.spec.phases + 1):
                current = amps if n <= self.phases_in_use else 0.0
                out.append(Sample("Current.Import", round(current, 1), "A", f"L{n}"))
        elif self.ev is not None:
            out.append(Sample("SoC", round(self.ev.soc * 100.0, 1), "Percent"))
        return out


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


_CLIENTS: dict[str, Callable[[SimStation, Wire], VersionClient]] = {
    "1.6": v16.ChargePointClient,
    "2.0.1": v201.ChargePointClient,
}


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


def _connection_error(exc: BaseException) -> BaseException | None:
    """The first underlying error when `exc` is (a group of) connection failures only."""
    if isinstance(exc, BaseExceptionGroup):
        leaves = [_connection_error(e) for e in exc.exceptions]
        return leaves[0] if leaves and all(leaves) else None
    return exc if isinstance(exc, _CONNECTION_ERRORS) else None


class StationConfig:
    """The small key-value configuration both versions expose (OCPP 1.6 key names; v201 maps)."""

    READONLY = frozenset(
        {
            "NumberOfConnectors",
            "ChargeProfileMaxStackLevel",
            "SupportedFeatureProfiles",
            "ChargingScheduleAllowedChargingRateUnit",
        }
    )
    _POSITIVE_NUMBERS = frozenset({"HeartbeatInterval", "MeterValueSampleInterval"})

    def __init__(self, connectors: int, meter_interval_s: float) -> None:
        self.values: dict[str, str] = {
            "HeartbeatInterval": "300",
            "MeterValueSampleInterval": str(int(meter_interval_s) or 1),
            "MeterValuesSampledData": "Energy.Active.Import.Register,Power.Active.Import,"
            "Current.Import,SoC",
            "AuthorizeRemoteTxRequests": "false",
            "ConnectionTimeOut": "120",
            "NumberOfConnectors": str(connectors),
            "ChargeProfileMaxStackLevel": "8",
            "ChargingScheduleAllowedChargingRateUnit": "Current,Power",
            "SupportedFeatureProfiles": "Core,FirmwareManagement,Reservation,SmartCharging,"
            "RemoteTrigger",
        }
        self.meter_interval_s = meter_interval_s

    @property
    def heartbeat_interval_s(self) -> float:
        return float(self.values["HeartbeatInterval"])

    def set(self, key: str, value: str) -> Literal["Accepted", "Rejected", "NotSupported"]:
        """OCPP 1.6 §5.3: unknown keys are NotSupported, read-only or malformed values Rejected."""
        if key not in self.values:
            return "NotSupported"
        if key in self.READONLY:
            return "Rejected"
        if key in self._POSITIVE_NUMBERS:
            try:
                number = float(value)
            except ValueError:
                return "Rejected"
            if number <= 0:
                return "Rejected"
            if key == "MeterValueSampleInterval":
                self.meter_interval_s = number
        self.values[key] = value
        return "Accepted"


class SimStation:
    """A charging station speaking OCPP 1.6 or 2.0.1 to a CSMS, driven by method calls."""

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
                cause = _connection_error(exc)
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

    # -- CSMS commands: answered by the v16/v201 handlers, follow-ups run after the reply ---

    def install_profile(self, profile: ChargingProfile) -> bool:
        """OCPP 1.6 §5.16 / 2.0.1 K01: check where the profile may go, then install it."""
        if profile.purpose in STATION_PURPOSES:
            if profile.evse_id != 0:
                return False
        elif profile.evse_id != 0 and profile.evse_id not in self.evses:
            return False
        if profile.purpose is Purpose.TX:  # 1.6 §3.13.1: only on a running transaction
            evse = self.evses.get(profile.evse_id)
            running = evse.transaction_id if evse else None
            if running is None or profile.transaction_id not in (None, running):
                return False
        self._install(profile)
        self._refresh_power()
        return True

    def _install(self, profile: ChargingProfile) -> None:
        """Same id, or same stackLevel + purpose + EVSE, replaces the old one (1.6 §5.16)."""
        self.profiles = [
            p
            for p in self.profiles
            if p.profile_id != profile.profile_id
            and (p.stack_level, p.purpose, p.evse_id)
            != (profile.stack_level, profile.purpose, profile.evse_id)
        ]
        self.profiles.append(profile)
        self.profile_log.append(profile)

    def clear_profiles(
        self,
        profile_id: int | None = None,
        evse_id: int | None = None,
        purpose: Purpose | None = None,
        stack_level: int | None = None,
    ) -> bool:
        """OCPP 1.6 §5.5 / 2.0.1 K10: remove the profiles matching every given criterion."""

        def matches(p: ChargingProfile) -> bool:
            return all(
                wanted is None or wanted == actual
                for wanted, actual in (
                    (profile_id, p.profile_id),
                    (evse_id, p.evse_id),
                    (purpose, p.purpose),
                    (stack_level, p.stack_level),
                )
            )

        kept = [p for p in self.profiles if not matches(p)]
        removed = len(kept) != len(self.profiles)
        self.profiles = kept
        self._refresh_power()
        return removed

    def remote_start(
        self,
        evse_id: int | None,
        id_token: str,
        remote_start_id: int | None = None,
        profile: ChargingProfile | None = None,
        id_token_type: str = "Central",
    ) -> bool:
        """OCPP 1.6 §5.11 / 2.0.1 F01: start with the waiting EV, else when one plugs in."""
        candidates = [self.evses.get(evse_id)] if evse_id else list(self.evses.values())
        usable = [
            e
            for e in candidates
            if e is not None
            and e.operative
            and e.transaction_id is None
            and e.state is not ConnectorState.FAULTED
        ]
        if not usable:
            return False
        evse = next((e for e in usable if e.ev is not None), usable[0])
        remote = RemoteStart(id_token, remote_start_id, profile, id_token_type)
        if evse.ev is None:
            evse.pending_remote = remote
        else:
            self._defer(partial(self._remote_begin, evse, remote))
        return True

    async def _remote_begin(self, evse: EvseRuntime, remote: RemoteStart) -> None:
        async with evse.lock:
            if evse.ev is None:
                evse.pending_remote = remote
            elif evse.transaction_id is None:
                await self._begin(evse, remote.id_token, remote)

    def remote_stop(self, transaction_id: str) -> bool:
        """OCPP 1.6 §5.12 / 2.0.1 F03: stop (reason Remote) if the transaction runs here."""
        for evse in self.evses.values():
            if evse.transaction_id == transaction_id:
                self._defer(partial(self.stop_transaction, evse.evse_id, StopReason.REMOTE))
                return True
        return False

    def reset(self, hard: bool) -> None:
        """OCPP 1.6 §5.14 / 2.0.1 B11-B12: end transactions, reconnect and boot again."""
        reason = StopReason.HARD_RESET if hard else StopReason.SOFT_RESET

        async def reboot() -> None:
            for evse in self.evses.values():
                await self.stop_transaction(evse.evse_id, reason)
            self._end_session("reboot")

        self._defer(reboot)

    def change_availability(self, evse_id: int, operative: bool) -> str:
        """OCPP 1.6 §5.2 / 2.0.1 G03: 'Scheduled' while a transaction runs on a target EVSE."""
        targets = list(self.evses.values()) if evse_id == 0 else [self.evses.get(evse_id)]
        scheduled = False
        for evse in targets:
            if evse is None:
                return "Rejected"
            if not operative and evse.transaction_id is not None:
                evse.pending_inoperative = scheduled = True
                continue
            evse.operative, evse.pending_inoperative = operative, False
            self._defer(partial(self._set_idle, evse))
        return "Scheduled" if scheduled else "Accepted"

    def unlock(self, evse_id: int, stop_running: bool) -> Literal["Unlocked", "Ongoing", "Unknown"]:
        """OCPP 1.6 §5.18 stops a running transaction; 2.0.1 F05 refuses instead."""
        evse = self.evses.get(evse_id)
        if evse is None:
            return "Unknown"
        if evse.transaction_id is not None:
            if not stop_running:
                return "Ongoing"
            self._defer(partial(self.stop_transaction, evse_id, StopReason.UNLOCK_COMMAND))
        return "Unlocked"

    def trigger(self, message: str, evse_id: int | None = None) -> bool:
        """OCPP 1.6 §5.17 / 2.0.1 F06: send the requested message after the reply."""
        client = self._require_client()
        targets = [self.evses[evse_id]] if evse_id in self.evses else list(self.evses.values())
        senders: dict[str, Callable[[], Coroutine[Any, Any, None]]] = {
            "BootNotification": partial(self._boot, "Triggered"),
            "Heartbeat": client.heartbeat,
            "StatusNotification": partial(self._report_status, targets),
            "MeterValues": partial(self._report_meters, targets),
            "TransactionEvent": partial(self._report_meters, targets),
            "FirmwareStatusNotification": partial(
                client.firmware_status, self.firmware_state, self._firmware_request_id
            ),
        }
        for upload in ("DiagnosticsStatusNotification", "LogStatusNotification"):
            senders[upload] = partial(
                client.upload_status, self.upload_state, self._upload_request_id
            )
        sender = senders.get(message)
        if sender is not None:
            self._defer(sender)
        return sender is not None

    async def _report_status(self, targets: list[EvseRuntime]) -> None:
        for evse in targets:
            await self._notify(evse, None)

    async def _report_meters(self, targets: list[EvseRuntime]) -> None:
        self._refresh_power()
        for evse in targets:
            async with evse.lock:
                await self._require_client().meter_values(evse, triggered=True)

    def reserve(
        self, reservation_id: int, evse_id: int | None, id_token: str, expiry: datetime | None
    ) -> str:
        """OCPP 1.6 §5.13 / 2.0.1 H01; `reservation_answer(s)` force an answer for tests."""
        forced = self.reservation_answers.get(evse_id or 0, self.reservation_answer)
        if forced != "Accepted":
            return forced
        free = [e for e in self.evses.values() if e.ev is None and e.reservation is None]
        evse = self.evses.get(evse_id) if evse_id else next(iter(free), None)
        if evse is None:
            return "Rejected" if evse_id else "Occupied"
        if evse.state is ConnectorState.FAULTED:
            return "Faulted"
        if not evse.operative:
            return "Unavailable"
        held = evse.reservation
        if evse.ev is not None or (held is not None and held.reservation_id != reservation_id):
            return "Occupied"
        evse.reservation = Reservation(reservation_id, evse.evse_id, id_token, expiry)
        self._defer(partial(self._set_idle, evse))
        return "Accepted"

    def cancel_reservation(self, reservation_id: int) -> bool:
        """OCPP 1.6 §5.1 / 2.0.1 H02."""
        for evse in self.evses.values():
            if evse.reservation is not None and evse.reservation.reservation_id == reservation_id:
                evse.reservation = None
                self._defer(partial(self._set_idle, evse))
                return True
        return False

    def update_firmware(self, location: str, request_id: int | None = None) -> None:
        """OCPP 1.6 §5.19 / 2.0.1 L01: report each stage; nothing is downloaded."""
        self._firmware_request_id = request_id

        async def stages() -> None:
            for n, status in enumerate(("Downloading", "Downloaded", "Installing", "Installed")):
                if n:
                    await self.clock.sleep(self.firmware_step_s)
                self.firmware_state = status
                await self._require_client().firmware_status(status, request_id)

        log.info("firmware update station=%s location=%s", self.station_id, location)
        self._defer(stages)

    def upload_log(self, location: str, request_id: int | None = None) -> str:
        """OCPP 1.6 §5.9 / 2.0.1 N01: returns the file name; the upload follows the reply."""
        self._upload_request_id = request_id
        stamp = self.clock.now().strftime("%Y%m%dT%H%M%SZ")
        filename = f"{self.station_id}-{stamp}.log"
        self._defer(partial(self._upload_log, location, filename, request_id))
        return filename

    async def _upload_log(self, location: str, filename: str, request_id: int | None) -> None:
        """Plain HTTP PUT of the log text to `location/filename` (no multipart, no FTP)."""
        client = self._require_client()
        self.upload_state = "Uploading"
        await client.upload_status(self.upload_state, request_id)
        url = location.rstrip("/") + "/" + filename
        body = ("\n".join(self.event_log) + "\n").encode()
        try:
            async with httpx.AsyncClient(timeout=10.0) as http:
                reply = await http.put(url, content=body, headers={"Content-Type": "text/plain"})
            ok = reply.is_success
        except httpx.HTTPError as exc:
            log.warning("log upload failed station=%s url=%s error=%r", self.station_id, url, exc)
            ok = False
        self.upload_state = "Uploaded" if ok else "UploadFailed"
        await client.upload_status(self.upload_state, request_id)
