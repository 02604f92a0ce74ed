"""A tiny in-test CSMS for both OCPP versions, a clock that moves when told, and an HTTP sink."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import count
from typing import Any, cast

import pytest
import websockets
from ocpp import v16, v201
from ocpp.routing import on
from ocpp.v16 import call_result as result16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201
from websockets.exceptions import ConnectionClosed

from evhub.clock import FrozenClock
from evhub.sim.station import OcppVersion, SimEvse, SimStation

START = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)


async def advance(clock: FrozenClock, seconds: float) -> None:
    """Move `clock` on, then let the loops it woke run until they wait again."""
    clock.advance(seconds)
    for _ in range(5):
        await asyncio.sleep(0)


async def eventually(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    for _ in range(int(timeout_s / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


async def advance_until(
    clock: FrozenClock, condition: Callable[[], bool], step_s: float, tries: int = 100
) -> None:
    """Advance in steps until `condition`; for loops whose sleep may start after an advance."""
    for _ in range(tries):
        if condition():
            return
        await advance(clock, step_s)
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


class _Recorder:
    """Records every call a station sends, wire shape (camelCase), in order."""

    server: FakeCsms

    async def route_message(self, raw_msg: str) -> None:
        try:
            msg = json.loads(raw_msg)
        except ValueError:
            msg = None
        if isinstance(msg, list) and msg[0] == 2:
            self.server.calls.append((msg[2], msg[3]))
        await super().route_message(raw_msg)  # type: ignore[misc]


class Csms16(_Recorder, v16.ChargePoint):
    @on(Action16.boot_notification)
    def on_boot(self, **_: Any) -> result16.BootNotification:
        return result16.BootNotification(
            current_time=START.isoformat(),
            interval=self.server.interval,
            status=self.server.boot_status,
        )

    @on(Action16.heartbeat)
    def on_heartbeat(self, **_: Any) -> result16.Heartbeat:
        return result16.Heartbeat(current_time=START.isoformat())

    @on(Action16.status_notification)
    def on_status(self, **_: Any) -> result16.StatusNotification:
        return result16.StatusNotification()

    @on(Action16.authorize)
    def on_authorize(self, id_tag: str, **_: Any) -> result16.Authorize:
        return result16.Authorize(id_tag_info={"status": self.server.token_status(id_tag)})

    @on(Action16.start_transaction)
    def on_start(self, id_tag: str, **_: Any) -> result16.StartTransaction:
        return result16.StartTransaction(
            transaction_id=next(self.server.tx_ids),
            id_tag_info={"status": self.server.token_status(id_tag)},
        )

    @on(Action16.stop_transaction)
    def on_stop(self, **_: Any) -> result16.StopTransaction:
        return result16.StopTransaction()

    @on(Action16.meter_values)
    def on_meter_values(self, **_: Any) -> result16.MeterValues:
        return result16.MeterValues()

    @on(Action16.firmware_status_notification)
    def on_firmware(self, **_: Any) -> result16.FirmwareStatusNotification:
        return result16.FirmwareStatusNotification()

    @on(Action16.diagnostics_status_notification)
    def on_diagnostics(self, **_: Any) -> result16.DiagnosticsStatusNotification:
        return result16.DiagnosticsStatusNotification()


class Csms201(_Recorder, v201.ChargePoint):
    @on(Action201.boot_notification)
    def on_boot(self, **_: Any) -> result201.BootNotification:
        return result201.BootNotification(
            current_time=START.isoformat(),
            interval=self.server.interval,
            status=self.server.boot_status,
        )

    @on(Action201.heartbeat)
    def on_heartbeat(self, **_: Any) -> result201.Heartbeat:
        return result201.Heartbeat(current_time=START.isoformat())

    @on(Action201.status_notification)
    def on_status(self, **_: Any) -> result201.StatusNotification:
        return result201.StatusNotification()

    @on(Action201.authorize)
    def on_authorize(self, id_token: dict[str, Any], **_: Any) -> result201.Authorize:
        status = self.server.token_status(id_token["id_token"])
        return result201.Authorize(id_token_info={"status": status})

    @on(Action201.transaction_event)
    def on_transaction_event(
        self, id_token: dict[str, Any] | None = None, **_: Any
    ) -> result201.TransactionEvent:
        if id_token is None:
            return result201.TransactionEvent()
        status = self.server.token_status(id_token["id_token"])
        return result201.TransactionEvent(id_token_info={"status": status})

    @on(Action201.meter_values)
    def on_meter_values(self, **_: Any) -> result201.MeterValues:
        return result201.MeterValues()

    @on(Action201.firmware_status_notification)
    def on_firmware(self, **_: Any) -> result201.FirmwareStatusNotification:
        return result201.FirmwareStatusNotification()

    @on(Action201.log_status_notification)
    def on_log_status(self, **_: Any) -> result201.LogStatusNotification:
        return result201.LogStatusNotification()


@dataclass
class FakeCsms:
    version: str
    url: str = ""
    interval: int = 300
    boot_status: str = "Accepted"
    blocked_tokens: set[str] = field(default_factory=set)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    points: dict[str, Any] = field(default_factory=dict)
    authorizations: list[str | None] = field(default_factory=list)
    tx_ids: Any = field(default_factory=lambda: count(100))

    def token_status(self, token: str) -> str:
        return "Blocked" if token in self.blocked_tokens else "Accepted"

    async def handler(self, ws: Any) -> None:
        station_id = ws.request.path.rsplit("/", 1)[-1]
        self.authorizations.append(ws.request.headers.get("Authorization"))
        cls = Csms16 if self.version == "1.6" else Csms201
        point = cls(station_id, ws, response_timeout=2)
        point.server = self
        self.points[station_id] = point
        try:
            await point.start()
        except ConnectionClosed:
            pass

    def sent(self, action: str) -> list[dict[str, Any]]:
        return [payload for name, payload in self.calls if name == action]

    async def wait_for(
        self,
        action: str,
        n: int = 1,
        where: Callable[[dict[str, Any]], bool] = lambda _: True,
        timeout_s: float = 5.0,
    ) -> list[dict[str, Any]]:
        """The payloads of `action` matching `where`, once at least `n` have arrived."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            found = [p for p in self.sent(action) if where(p)]
            if len(found) >= n:
                return found
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{n} x {action} expected, got {self.calls}")
            await asyncio.sleep(0.005)

    async def call(self, station_id: str, payload: Any) -> Any:
        return await self.points[station_id].call(payload)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture(params=["1.6", "2.0.1"])
async def csms(request: pytest.FixtureRequest) -> AsyncIterator[FakeCsms]:
    fake = FakeCsms(request.param)
    async with websockets.serve(
        fake.handler, "127.0.0.1", 0, subprotocols=[f"ocpp{fake.version}"]
    ) as server:
        port = server.sockets[0].getsockname()[1]
        fake.url = f"ws://127.0.0.1:{port}/ocpp"
        yield fake


def make_station(csms: FakeCsms, clock: FrozenClock, **kwargs: Any) -> SimStation:
    evses = [
        SimEvse(1, dc=False, max_kw=22.0, phases=3),
        SimEvse(2, dc=True, max_kw=50.0, phases=3, voltage=400.0),
    ]
    return SimStation(
        "CP-1",
        "secret",
        cast(OcppVersion, csms.version),
        csms.url,
        evses,
        clock=clock,
        meter_interval_s=60,
        reconnect_delay_s=1,
        **kwargs,
    )


@pytest.fixture
async def station(csms: FakeCsms, clock: FrozenClock) -> AsyncIterator[SimStation]:
    st = make_station(csms, clock)
    await st.start()
    yield st
    await st.stop()


@dataclass
class HttpSink:
    """Accepts HTTP PUTs and keeps (path, body); enough for diagnostics uploads."""

    url: str = ""
    uploads: list[tuple[str, bytes]] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        _, path, _ = head.split(" ", 2)
        length = next(
            int(line.split(":", 1)[1])
            for line in head.split("\r\n")
            if line.lower().startswith("content-length:")
        )
        self.uploads.append((path, await reader.readexactly(length)))
        writer.write(b"HTTP/1.1 201 Created\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        await writer.drain()
        writer.close()
        await writer.wait_closed()


@pytest.fixture
async def http_sink() -> AsyncIterator[HttpSink]:
    sink = HttpSink()
    server = await asyncio.start_server(sink.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    sink.url = f"http://127.0.0.1:{port}/uploads/"
    async with server:
        yield sink
