"""A raw OCPP-J client for protocol tests: exact frames in, exact frames out."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

from tests.integration.live_server import PASSWORD, basic_auth


class RawStation:
    """Sends Calls and reads replies; answers the CSMS's own Calls with canned results."""

    def __init__(self, ws: ClientConnection, station_id: str) -> None:
        self.ws = ws
        self.id = station_id
        self._ids = itertools.count(1)
        self.incoming: list[list[Any]] = []

    async def call(
        self, action: str, payload: dict[str, Any], message_id: str | None = None
    ) -> list[Any]:
        mid = message_id or f"m{next(self._ids)}"
        await self.ws.send(json.dumps([2, mid, action, payload]))
        return await self.reply_to(mid)

    async def send_raw(self, text: str) -> list[Any]:
        await self.ws.send(text)
        return json.loads(await self.ws.recv())  # type: ignore[no-any-return]

    async def reply_to(self, message_id: str) -> list[Any]:
        while True:
            frame = json.loads(await self.ws.recv())
            if frame[0] == 2:
                self.incoming.append(frame)
                continue
            assert frame[1] == message_id, frame
            return frame  # type: ignore[no-any-return]

    async def result(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        frame = await self.call(action, payload)
        assert frame[0] == 3, frame
        return frame[2]  # type: ignore[no-any-return]


@asynccontextmanager
async def connect(
    ws_base: str, station_id: str, protocol: str, password: str = PASSWORD
) -> AsyncIterator[RawStation]:
    async with websockets.connect(
        f"{ws_base}/{station_id}",
        subprotocols=[protocol],  # type: ignore[list-item]
        additional_headers=basic_auth(station_id, password),
        # A bound on failure, not a timing: the server shares this test's event loop and its
        # two cores with the suite, so an opening handshake may wait seconds behind other work.
        open_timeout=30,
    ) as ws:
        assert ws.subprotocol == protocol
        yield RawStation(ws, station_id)


async def answer_until(
    station: RawStation,
    action: str,
    payload: dict[str, Any],
    match: Callable[[dict[str, Any]], bool] = lambda _: True,
) -> list[Any]:
    """Answer the CSMS's calls until `action` comes (with a payload that `match`es), with
    `payload`; the others (such as the planner's charging profiles, which may come first) get
    a plain Accepted. Return the Call."""
    while True:
        frame = station.incoming.pop(0) if station.incoming else json.loads(await station.ws.recv())
        assert frame[0] == 2, frame
        wanted = frame[2] == action and match(frame[3])
        await station.ws.send(
            json.dumps([3, frame[1], payload if wanted else {"status": "Accepted"}])
        )
        if wanted:
            return frame  # type: ignore[no-any-return]
