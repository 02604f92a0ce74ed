"""Station connection: subprotocol negotiation, Basic auth, replacement on reconnect."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from evhub.assets.credentials import verify_password
from evhub.assets.models import Station
from tests.integration.live_server import PASSWORD, LiveServer, basic_auth, run_server
from tests.integration.ocpp_client import connect


async def _when(server: LiveServer, check: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The station's record once `check` holds: the online flag follows the socket closely,
    not atomically (it is written just after the handshake and just after the close)."""
    async with asyncio.timeout(5):
        while not check(station := (await server.http.get("/api/v1/stations/CP-1")).json()):
            await asyncio.sleep(0.02)
    return dict(station)


async def _station(server: LiveServer, station_id: str = "CP-1") -> None:
    site = await server.add_site()
    await server.add_station(station_id, site)


@pytest.mark.parametrize("protocol", ["ocpp1.6", "ocpp2.0.1", "ocpp2.1"])
async def test_known_station_connects_with_its_protocol(server: LiveServer, protocol: str) -> None:
    await _station(server)
    async with connect(server.ws_base, "CP-1", protocol) as st:
        assert st.ws.subprotocol == protocol
        station = await _when(server, lambda s: s["online"])
        assert station["ocpp_version"] == protocol.removeprefix("ocpp")
    await _when(server, lambda s: not s["online"])


async def test_unsupported_subprotocol_is_refused(server: LiveServer) -> None:
    await _station(server)
    with pytest.raises(InvalidStatus):
        async with websockets.connect(
            f"{server.ws_base}/CP-1",
            subprotocols=["ocpp1.5"],
            additional_headers=basic_auth("CP-1"),  # type: ignore[list-item]
        ):
            pass


@pytest.mark.parametrize(
    ("station_id", "headers"),
    [
        ("CP-1", basic_auth("CP-1", "wrong-password-000000")),
        ("CP-1", {}),
        ("CP-1", basic_auth("CP-2")),
        ("CP-UNKNOWN", basic_auth("CP-UNKNOWN")),
    ],
    ids=["wrong-password", "no-credentials", "credentials-of-another-id", "unknown-station"],
)
async def test_bad_credentials_are_refused_at_handshake(
    server: LiveServer, station_id: str, headers: dict[str, str]
) -> None:
    await _station(server)
    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(
            f"{server.ws_base}/{station_id}",
            subprotocols=["ocpp2.0.1"],
            additional_headers=headers,  # type: ignore[list-item]
        ):
            pass
    # RFC 7235 §3.1: a refused Basic login is a 401 that names the scheme.
    assert refused.value.response.status_code == 401
    assert refused.value.response.headers["WWW-Authenticate"].startswith("Basic")


async def test_reconnect_replaces_the_old_connection(server: LiveServer) -> None:
    await _station(server)
    async with connect(server.ws_base, "CP-1", "ocpp1.6") as first:
        async with connect(server.ws_base, "CP-1", "ocpp1.6") as second:
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(first.ws.recv(), 2)
            reply = await second.result("Heartbeat", {})
            assert "currentTime" in reply
            assert (await server.http.get("/api/v1/stations/CP-1")).json()["online"] is True


async def test_a_pbkdf2_hash_is_replaced_by_the_keyed_hash_at_the_next_login(
    database_url: str,
) -> None:
    async with run_server(database_url, secret_key="handshake-test-secret-" + "k" * 32) as server:
        await _a_pbkdf2_hash_is_replaced(server)


async def test_without_a_configured_secret_the_pbkdf2_hash_is_kept(server: LiveServer) -> None:
    # A secret generated per node (under var_dir) is not shared by the other nodes.
    await _station(server)
    async with connect(server.ws_base, "CP-1", "ocpp1.6") as st:
        await st.result("Heartbeat", {})
    assert (await _password_hash(server)).startswith("pbkdf2_sha256$")


async def _a_pbkdf2_hash_is_replaced(server: LiveServer) -> None:
    await _station(server)
    stored = await _password_hash(server)
    assert stored.startswith("pbkdf2_sha256$")  # as stored before keyed hashes
    async with connect(server.ws_base, "CP-1", "ocpp1.6") as st:
        # Answered after the connection's mark (and the new hash) committed.
        await st.result("Heartbeat", {})
    replaced = await _password_hash(server)
    assert replaced.startswith("hmac_sha256$")
    key = server.app.state.gateway.credential_key
    assert verify_password(PASSWORD, replaced, key)
    async with connect(server.ws_base, "CP-1", "ocpp2.0.1") as st:  # the keyed hash admits it
        await st.result("Heartbeat", {})
    assert await _password_hash(server) == replaced  # replaced once, not at every login
    with pytest.raises(InvalidStatus) as refused:
        async with connect(server.ws_base, "CP-1", "ocpp1.6", password="wrong-password-000000"):
            pass
    assert refused.value.response.status_code == 401


async def _password_hash(server: LiveServer) -> str:
    async with server.app.state.services.uow() as s:
        station = await s.get(Station, "CP-1")
        assert station is not None
        return str(station.password_hash)
