"""The ceiling of this machine for OCPP-J over WebSockets in Python: a bare echo server.

Same websockets library and JSON module as the stations, one process and one event loop like
`evhub serve`, but nothing else: every Call is parsed and answered at once with an empty
CallResult (`[3, id, {}]`), with no authentication, validation, database or background loop.
The benchmarks run their load against it in the same run as against evhub and report evhub's
figures as ratios to it, so that a figure says how close the gateway gets to what Python itself
allows on the machine of the day (shared cores, load of other processes).

    .venv/bin/python benchmarks/echo_baseline.py --port 8290     # serve until interrupted
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import websockets
from websockets.asyncio.server import ServerConnection, serve

PROTOCOLS = ["ocpp1.6", "ocpp2.0.1"]


async def _answer(ws: ServerConnection) -> None:
    with contextlib.suppress(websockets.ConnectionClosed):
        async for frame in ws:
            message = json.loads(frame)
            if message[0] == 2:
                await ws.send(json.dumps([3, message[1], {}]))


async def _serve(port: int) -> None:
    async with serve(
        _answer, "127.0.0.1", port, subprotocols=PROTOCOLS,  # type: ignore[arg-type]
        ping_interval=None, backlog=4096,
    ) as server:  # fmt: skip
        await server.serve_forever()


@contextlib.asynccontextmanager
async def echo_server(port: int) -> AsyncIterator[str]:
    """The echo server in its own process (as `evhub serve` is): its `ws://` base URL."""
    process = subprocess.Popen([sys.executable, str(Path(__file__)), "--port", str(port)])
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                probe = websockets.connect(f"ws://127.0.0.1:{port}/probe", subprotocols=PROTOCOLS)  # type: ignore[arg-type]
                async with probe:
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the echo server did not start") from None
                await asyncio.sleep(0.1)
        yield f"ws://127.0.0.1:{port}/ocpp"
    finally:
        process.terminate()
        process.wait(30)


async def saturate(
    clients: list[Any], connect: Callable[[Any], Awaitable[Any]], duration_s: float
) -> float:
    """Messages/s answered when every client sends its next Call as soon as the last is
    answered (closed loop), over `duration_s` once all are connected. `connect(client)` opens
    the client's socket; `client.call(ws, action, payload)` sends one Call and waits."""
    sockets = [await connect(c) for c in clients]
    counts = [0] * len(clients)
    stop_at = time.monotonic() + duration_s

    async def pump(index: int) -> None:
        client, ws = clients[index], sockets[index]
        while time.monotonic() < stop_at:
            await client.call(ws, "Heartbeat", {})
            counts[index] += 1

    t0 = time.monotonic()
    async with asyncio.TaskGroup() as group:
        for index in range(len(clients)):
            group.create_task(pump(index))
    elapsed = time.monotonic() - t0
    for ws in sockets:
        await ws.close()
    return sum(counts) / elapsed


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8290)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(parser.parse_args().port))
