"""The WebSocket endpoint under hostile clients: half-sent headers, password guessing, and
station ids that try to write log lines of their own."""

from __future__ import annotations

import asyncio
import logging

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from tests.integration.live_server import LiveServer, basic_auth, run_server
from tests.integration.ocpp_client import connect


async def _half_request(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection that sends part of a handshake's headers and then nothing."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /ocpp/CP-1 HTTP/1.1\r\nHost: evhub\r\nUpgrade: websocket\r\n")
    await writer.drain()
    return reader, writer


async def _closed_by_server(reader: asyncio.StreamReader, within_s: float) -> bool:
    async with asyncio.timeout(within_s):
        return await reader.read() == b""


async def test_a_connection_with_unfinished_headers_is_closed(database_url: str) -> None:
    async with run_server(database_url, ocpp_header_timeout_s=0.5) as server:
        reader, writer = await _half_request(server.port)
        try:
            assert await _closed_by_server(reader, within_s=5)
        finally:
            writer.close()
        assert (await server.http.get("/api/v1/me")).status_code == 200


async def test_connections_beyond_the_pending_cap_are_closed_at_once(database_url: str) -> None:
    # The refused connection must close well before the header timeout that ends the others;
    # the margin between the two is wide, so that a loaded machine cannot blur them.
    header_timeout_s = 8.0
    async with run_server(
        database_url, ocpp_header_timeout_s=header_timeout_s, ocpp_max_pending_handshakes=2
    ) as server:
        held = [await _half_request(server.port) for _ in range(2)]
        reader, writer = await _half_request(server.port)
        try:
            assert await _closed_by_server(reader, within_s=header_timeout_s / 4)
            for held_reader, _ in held:
                assert await _closed_by_server(held_reader, within_s=2 * header_timeout_s)
        finally:
            for _, w in [*held, (reader, writer)]:
                w.close()
        assert (await server.http.get("/api/v1/me")).status_code == 200


async def _refusal(server: LiveServer, station_id: str, password: str) -> InvalidStatus:
    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(
            f"{server.ws_base}/{station_id}",
            subprotocols=["ocpp1.6"],  # type: ignore[list-item]
            additional_headers=basic_auth(station_id, password),
            open_timeout=30,
        ):
            pass
    return refused.value


async def test_repeated_wrong_passwords_put_the_station_id_in_backoff(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with run_server(database_url, ocpp_login_free_failures=3) as server:
        site = await server.add_site()
        await server.add_station("CP-1", site)
        await server.add_station("CP-2", site)
        with caplog.at_level(logging.INFO, logger="evhub.ocpp"):
            for _ in range(3):
                refused = await _refusal(server, "CP-1", "wrong-password-000000")
                assert refused.response.status_code == 401
            # Now even the right password is refused, at once, with the time to wait.
            refused = await _refusal(server, "CP-1", "station-password-0001")
        assert refused.response.status_code == 401
        assert int(refused.response.headers["Retry-After"]) >= 1
        reasons = [r.getMessage().split("reason=")[1].split()[0] for r in caplog.records
                   if "event=refused" in r.getMessage()]  # fmt: skip
        assert reasons == ["authentication"] * 3 + ["backoff"]
        # Another station id from the same address still connects.
        async with connect(server.ws_base, "CP-2", "ocpp1.6") as st:
            assert st.ws.subprotocol == "ocpp1.6"


async def test_a_station_id_cannot_forge_a_log_line(
    server: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="evhub.ocpp"):
        refused = await _refusal(server, "CP-1%0Astation=CP-1%20event=connected", "x" * 16)
    assert refused.response.status_code == 401
    [line] = [r.getMessage() for r in caplog.records if r.name == "evhub.ocpp"]
    assert "\n" not in line and line.startswith("station=CP-1\\x0astation=CP-1 event=connected")
