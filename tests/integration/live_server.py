"""The real evhub server on a free loopback port, inside the test's event loop."""

from __future__ import annotations

import asyncio
import base64
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from evhub.app import create_app
from evhub.clock import Clock
from evhub.settings import Settings

PASSWORD = "station-password-0001"


@dataclass
class LiveServer:
    app: FastAPI
    port: int
    http: httpx.AsyncClient

    @property
    def ws_base(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp"

    async def add_site(self, grid_limit_kw: float = 250.0, **extra: Any) -> int:
        body = {"name": "Test hub", "timezone": "Europe/Paris", "grid_limit_kw": grid_limit_kw}
        r = await self.http.post("/api/v1/sites", json=body | extra)
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    async def add_station(self, station_id: str, site_id: int, **extra: Any) -> dict[str, Any]:
        body = {"id": station_id, "site_id": site_id, "password": PASSWORD} | extra
        r = await self.http.post("/api/v1/stations", json=body)
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def add_token(self, uid: str, status: str = "Accepted", **extra: Any) -> None:
        r = await self.http.post("/api/v1/tokens", json={"uid": uid, "status": status} | extra)
        assert r.status_code == 201, r.text


def basic_auth(station_id: str, password: str = PASSWORD) -> dict[str, str]:
    raw = base64.b64encode(f"{station_id}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


@asynccontextmanager
async def run_server(
    database_url: str, clock: Clock | None = None, **settings: Any
) -> AsyncIterator[LiveServer]:
    settings.setdefault("var_dir", Path(tempfile.mkdtemp(prefix="evhub-test-")))
    app = create_app(Settings(database_url=database_url, **settings), clock=clock)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", ws_ping_interval=None, lifespan="on"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            yield LiveServer(app, port, http)
    finally:
        server.should_exit = True
        await task
