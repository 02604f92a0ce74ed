"""The real evhub server on a free loopback port, inside the test's event loop."""

from __future__ import annotations

import asyncio
import base64
import re
import secrets
import tempfile
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from evhub.app import create_app
from evhub.clock import Clock
from evhub.serving import uvicorn_options
from evhub.settings import Settings

PASSWORD = "station-password-0001"
# The tests' HTTP clients drop an idle connection before the server would (uvicorn closes one
# idle for 5 s, httpx's default expiry is 5 s too): a request sent on a connection the server
# is closing at that moment fails with a ReadError.
CLIENT_LIMITS = httpx.Limits(keepalive_expiry=2.0)
USER_PASSWORD = "console-password-1"


@dataclass
class LiveServer:
    """The server, and `http`: a client holding the admin key the server was started with."""

    app: FastAPI
    port: int
    http: httpx.AsyncClient
    _clients: AsyncExitStack = field(default_factory=AsyncExitStack)

    @property
    def ws_base(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def client(self, role: str | None, towns: list[str] | None = None) -> httpx.AsyncClient:
        """A client with a new API key of `role` (no credentials at all for None); a funder's
        key is for `towns` (by default one town that no test site is in)."""
        headers = {}
        if role is not None:
            body: dict[str, object] = {"name": role, "role": role}
            if role == "funder":
                body["towns"] = towns or ["Nowhere"]
            r = await self.http.post("/api/v1/api-keys", json=body)
            assert r.status_code == 201, r.text
            headers = {"Authorization": f"Bearer {r.json()['key']}"}
        client = httpx.AsyncClient(
            base_url=self.base_url, headers=headers, timeout=30, limits=CLIENT_LIMITS
        )
        return await self._clients.enter_async_context(client)

    async def console(
        self, role: str = "operator", towns: list[str] | None = None
    ) -> tuple[httpx.AsyncClient, str]:
        """A browser-like client signed in to the console as a new user of `role`, with the
        session's CSRF token (a funder's for `towns`, as `client` does)."""
        name = f"{role}-{secrets.token_hex(3)}"
        body: dict[str, object] = {"name": name, "password": USER_PASSWORD, "role": role}
        if role == "funder":
            body["towns"] = towns or ["Nowhere"]
        r = await self.http.post("/api/v1/users", json=body)
        assert r.status_code == 201, r.text
        client = await self._clients.enter_async_context(
            httpx.AsyncClient(base_url=self.base_url, timeout=30, limits=CLIENT_LIMITS)
        )
        return client, await login(client, name, USER_PASSWORD)

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


async def login(client: httpx.AsyncClient, name: str, password: str) -> str:
    """Sign in through the login form; returns the session's CSRF token."""
    form = await client.get("/login")
    csrf = _csrf_field(form.text)
    r = await client.post("/login", data={"csrf": csrf, "name": name, "password": password})
    assert r.status_code == 303, r.text
    return _csrf_field((await client.get(r.headers["location"])).text)


def _csrf_field(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, html[:500]
    return found.group(1)


def basic_auth(station_id: str, password: str = PASSWORD) -> dict[str, str]:
    raw = base64.b64encode(f"{station_id}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


@asynccontextmanager
async def run_server(
    database_url: str, clock: Clock | None = None, **settings: Any
) -> AsyncIterator[LiveServer]:
    settings.setdefault("var_dir", Path(tempfile.mkdtemp(prefix="evhub-test-")))
    settings.setdefault("map_tiles_url", "")  # no tile server: tests never leave the machine
    admin_key = settings.setdefault("bootstrap_admin_key", "evh_" + secrets.token_urlsafe(32))
    options = Settings(database_url=database_url, **settings)
    app = create_app(options, clock=clock)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="on",
        **uvicorn_options(options),
    )  # fmt: skip
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        headers = {"Authorization": f"Bearer {admin_key}"}
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}",
            headers=headers,
            timeout=30,
            limits=CLIENT_LIMITS,
        ) as http:
            live = LiveServer(app, port, http)
            async with live._clients:
                yield live
    finally:
        server.should_exit = True
        await task
