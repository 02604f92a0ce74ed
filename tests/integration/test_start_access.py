"""Access windows and quotas hold at transaction start too, not only at Authorize: a start
outside the window (or beyond the quota) is recorded, since the station has started it, and
the station is told the token is not accepted, so that it stops."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from tests.integration.live_server import LiveServer
from tests.integration.ocpp_client import connect
from tests.integration.reservations_hub import NOW, StoppedClock, add_driver, hub_server
from tests.integration.test_ocpp201_flows import event

EVENING = NOW + timedelta(hours=11)  # Wednesday 20:00 in Paris: residents' window is open
ADA = {"idToken": "ADA-1", "type": "ISO14443"}


@pytest.fixture
def clock() -> StoppedClock:
    return StoppedClock(NOW)


@pytest.fixture
async def hub(database_url: str, clock: StoppedClock) -> AsyncIterator[LiveServer]:
    async with hub_server(database_url, clock) as live:
        yield live


async def _setup(server: LiveServer, quota: int | None = None) -> None:
    site = await server.add_site()
    await server.add_station("CP-16", site, evses=[{"evse_id": 1}, {"evse_id": 2}])
    await server.add_station("CP-201", site, evses=[{"evse_id": 1}])
    await add_driver(server, "ada", "resident")
    await add_driver(server, "di", "resident")
    windows = [
        {"user_group": "resident", "days": [0, 1, 2, 3, 4], "start": "19:00", "end": "08:00",
         "quota": quota},
    ]  # fmt: skip
    r = await server.http.put(f"/api/v1/sites/{site}/access-windows", json=windows)
    assert r.status_code == 200, r.text


def _start16(connector: int, tag: str, ts: str) -> dict[str, Any]:
    return {"connectorId": connector, "idTag": tag, "meterStart": 0, "timestamp": ts}


async def _transactions(server: LiveServer, station: str) -> list[dict[str, Any]]:
    r = await server.http.get("/api/v1/transactions", params={"station_id": station})
    return sorted(r.json(), key=lambda t: t["id"])


async def test_v16_start_outside_the_window_is_recorded_and_refused(
    hub: LiveServer, clock: StoppedClock
) -> None:
    await _setup(hub)
    async with connect(hub.ws_base, "CP-16", "ocpp1.6") as st:
        refused = await st.result("StartTransaction", _start16(1, "ADA-1", "2026-11-25T08:00:00Z"))
        assert refused["idTagInfo"]["status"] == "Invalid"  # 1.6 has no NotAtThisTime
        stop = {"transactionId": refused["transactionId"], "meterStop": 0,
                "timestamp": "2026-11-25T08:00:05Z", "reason": "DeAuthorized"}  # fmt: skip
        await st.result("StopTransaction", stop)
        clock.current = EVENING
        accepted = await st.result("StartTransaction", _start16(1, "ADA-1", "2026-11-25T19:00:00Z"))
        assert accepted["idTagInfo"]["status"] == "Accepted"
    first, second = await _transactions(hub, "CP-16")
    assert (first["id"], first["id_token"], first["stop_reason"]) == (
        refused["transactionId"], "ADA-1", "DeAuthorized",
    )  # fmt: skip
    assert (second["id"], second["state"]) == (accepted["transactionId"], "active")


async def test_v201_started_outside_the_window_is_not_at_this_time(hub: LiveServer) -> None:
    await _setup(hub)
    started = event(
        "Started", 0, "2026-11-25T08:00:00Z", idToken=ADA, evse={"id": 1, "connectorId": 1}
    )
    async with connect(hub.ws_base, "CP-201", "ocpp2.0.1") as st:
        info = (await st.result("TransactionEvent", started))["idTokenInfo"]
    assert info["status"] == "NotAtThisTime"
    assert info["personalMessage"]["content"].startswith("resident drivers may not charge")
    [record] = await _transactions(hub, "CP-201")
    assert (record["ocpp_transaction_id"], record["id_token"]) == ("tx-abc", "ADA-1")


async def test_v201_token_presented_after_the_start_is_checked_too(hub: LiveServer) -> None:
    """TxStartPoint EVConnected: the transaction starts with the cable, the token comes in an
    Updated event (E01.FR.02, E02)."""
    await _setup(hub)
    async with connect(hub.ws_base, "CP-201", "ocpp2.0.1") as st:
        started = event("Started", 0, "2026-11-25T08:00:00Z", evse={"id": 1, "connectorId": 1})
        assert "idTokenInfo" not in await st.result("TransactionEvent", started)
        authorized = event("Updated", 1, "2026-11-25T08:01:00Z", idToken=ADA)
        info = (await st.result("TransactionEvent", authorized))["idTokenInfo"]
    assert info["status"] == "NotAtThisTime"


async def test_a_start_beyond_the_quota_is_refused(hub: LiveServer, clock: StoppedClock) -> None:
    await _setup(hub, quota=1)
    clock.current = EVENING
    async with connect(hub.ws_base, "CP-16", "ocpp1.6") as st:
        di = await st.result("StartTransaction", _start16(1, "DI-1", "2026-11-25T19:00:00Z"))
        assert di["idTagInfo"]["status"] == "Accepted"
        ada = await st.result("StartTransaction", _start16(2, "ADA-1", "2026-11-25T19:01:00Z"))
        assert ada["idTagInfo"]["status"] == "Invalid"
    assert [t["state"] for t in await _transactions(hub, "CP-16")] == ["active", "active"]
