"""Upload URLs handed to stations: they expire, take one file, and cap its size."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx

from evhub.auth.signing import upload_token
from tests.integration.live_server import LiveServer, run_server
from tests.integration.ocpp_client import answer_until, connect

MAX_BYTES = 1000


async def _upload_url(server: LiveServer) -> tuple[str, int]:
    """Ask CP-U for its logs through the API; the URL and request id the station is given."""
    site = await server.add_site()
    await server.add_station("CP-U", site)
    async with connect(server.ws_base, "CP-U", "ocpp2.0.1") as st:
        request = asyncio.ensure_future(server.http.post("/api/v1/stations/CP-U/logs"))
        frame = await answer_until(st, "GetLog", {"status": "Accepted", "filename": "x.log"})
        response = await request
    assert response.status_code == 200, response.text
    assert frame[3]["log"]["remoteLocation"] == response.json()["detail"]["location"]
    return frame[3]["log"]["remoteLocation"], response.json()["detail"]["request_id"]


async def _stored(server: LiveServer) -> list[dict[str, Any]]:
    r = await server.http.get("/api/v1/stations/CP-U/events", params={"kind": "log_upload"})
    return list(r.json())


async def test_an_upload_url_takes_one_file(database_url: str) -> None:
    async with run_server(database_url, upload_max_bytes=MAX_BYTES) as server:
        location, request_id = await _upload_url(server)
        station = await server.client(None)
        first = await station.put(location + "a.log", content=b"first\n")
        assert first.status_code == 200, first.text
        again = await station.put(location + "b.log", content=b"second\n")
        assert again.status_code == 409 and "already" in again.json()["detail"]
        [event] = await _stored(server)
        assert event["request_id"] == request_id and "a.log" in event["detail"]


async def test_an_expired_upload_url_is_gone(database_url: str) -> None:
    async with run_server(database_url, upload_url_ttl_s=3600) as server:
        location, request_id = await _upload_url(server)
        # The URL the server handed out for this request, had it been an hour ago.
        past = int(time.time()) - 1
        stale = upload_token(server.app.state.secret, "CP-U", request_id, past)
        token = location.rstrip("/").rsplit("/", 1)[1]
        expired = location.replace(token, stale)
        station = await server.client(None)
        r = await station.put(expired + "a.log", content=b"x")
        assert r.status_code == 410 and "expired" in r.json()["detail"]
        # Moving the expiry forward breaks the signature.
        forged = location.replace(token, f"{past + 7200}.{stale.split('.')[1]}")
        assert (await station.put(forged + "a.log", content=b"x")).status_code == 404
        assert (await station.put(location + "a.log", content=b"x")).status_code == 200


async def test_an_upload_beyond_the_cap_is_413(database_url: str) -> None:
    async with run_server(database_url, upload_max_bytes=MAX_BYTES) as server:
        location, _ = await _upload_url(server)
        station = await server.client(None)
        declared = await station.put(location + "a.log", content=b"x" * (MAX_BYTES + 1))
        assert declared.status_code == 413, declared.text

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: refused mid-stream
            for _ in range(4):
                yield b"y" * (MAX_BYTES // 2)

        try:
            streamed = await station.put(location + "b.log", content=chunks())
            assert streamed.status_code == 413, streamed.text
        except httpx.WriteError:
            pass  # the server answered and closed before the client finished sending
        assert await _stored(server) == []
        uploads = server.app.state.settings.var_dir / "uploads" / "CP-U"
        assert [p for p in uploads.rglob("*") if p.is_file()] == []
        ok = await station.put(location + "c.log", content=b"z" * MAX_BYTES)
        assert ok.status_code == 200 and ok.json()["bytes"] == MAX_BYTES
