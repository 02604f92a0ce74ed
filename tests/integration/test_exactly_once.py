"""Nothing lost, nothing doubled: retries, offline queues and server restarts."""

from __future__ import annotations

from typing import Any

from tests.integration.live_server import LiveServer, run_server
from tests.integration.ocpp_client import connect
from tests.integration.test_ocpp201_flows import event, meter


async def _setup(server: LiveServer) -> None:
    site = await server.add_site()
    await server.add_station("CP-X", site, evses=[{"evse_id": 1}])
    await server.add_token("TAG")


async def _transactions(server: LiveServer) -> list[dict[str, Any]]:
    r = await server.http.get("/api/v1/transactions", params={"station_id": "CP-X"})
    return list(r.json())


async def test_v16_retried_start_returns_same_transaction(server: LiveServer) -> None:
    await _setup(server)
    start = {
        "connectorId": 1,
        "idTag": "TAG",
        "meterStart": 500,
        "timestamp": "2026-11-23T08:00:00Z",
    }
    async with connect(server.ws_base, "CP-X", "ocpp1.6") as st:
        first = await st.result("StartTransaction", start)
        again = await st.result("StartTransaction", start)  # the first reply was "lost"
    assert first["transactionId"] == again["transactionId"]
    assert len(await _transactions(server)) == 1


async def test_v16_retried_stop_and_meter_values_are_not_doubled(server: LiveServer) -> None:
    await _setup(server)
    mv = {"timestamp": "2026-11-23T08:05:00Z", "sampledValue": [{"value": "900"}]}
    async with connect(server.ws_base, "CP-X", "ocpp1.6") as st:
        tx = (
            await st.result(
                "StartTransaction",
                {
                    "connectorId": 1,
                    "idTag": "TAG",
                    "meterStart": 500,
                    "timestamp": "2026-11-23T08:00:00Z",
                },
            )
        )["transactionId"]
        for _ in range(2):
            await st.result(
                "MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [mv]}
            )
        stop = {"transactionId": tx, "meterStop": 1500, "timestamp": "2026-11-23T08:30:00Z"}
        await st.result("StopTransaction", stop)
        await st.result("StopTransaction", stop)
    [record] = await _transactions(server)
    assert record["energy_wh"] == 1000 and record["stopped_at"].startswith("2026-11-23T08:30")
    values = (await server.http.get(f"/api/v1/transactions/{record['id']}/meter-values")).json()
    assert [v["value"] for v in values] == [900]


async def test_v201_repeated_seq_no_changes_nothing(server: LiveServer) -> None:
    await _setup(server)
    async with connect(server.ws_base, "CP-X", "ocpp2.0.1") as st:
        start = event(
            "Started",
            0,
            "2026-11-23T08:00:00Z",
            evse={"id": 1, "connectorId": 1},
            meterValue=[meter("2026-11-23T08:00:00Z", 0, 0)],
        )
        update = event(
            "Updated",
            1,
            "2026-11-23T08:10:00Z",
            meterValue=[meter("2026-11-23T08:10:00Z", 2000, 11000)],
        )
        for frame in (start, start, update, update):
            await st.result("TransactionEvent", frame)
    [record] = await _transactions(server)
    values = (await server.http.get(f"/api/v1/transactions/{record['id']}/meter-values")).json()
    assert len(values) == 4  # two samples of two measurands, each once
    assert record["energy_wh"] == 2000


async def test_v201_offline_queue_is_stored_in_order(server: LiveServer) -> None:
    """A station that lost its connection sends its queued events late, with old timestamps."""
    await _setup(server)
    async with connect(server.ws_base, "CP-X", "ocpp2.0.1") as st:
        await st.result(
            "TransactionEvent",
            event(
                "Started",
                0,
                "2026-11-20T08:00:00Z",
                evse={"id": 1, "connectorId": 1},
                meterValue=[meter("2026-11-20T08:00:00Z", 100, 0)],
            ),
        )
        for seq, minute in ((1, 15), (2, 30), (3, 45)):
            ts = f"2026-11-20T08:{minute}:00Z"
            await st.result(
                "TransactionEvent",
                event(
                    "Updated", seq, ts, offline=True, meterValue=[meter(ts, 100 + 1000 * seq, 4000)]
                ),
            )
        await st.result(
            "TransactionEvent",
            event(
                "Ended",
                4,
                "2026-11-20T09:00:00Z",
                offline=True,
                meterValue=[meter("2026-11-20T09:00:00Z", 4100, 0, context="Transaction.End")],
            ),
        )
    [record] = await _transactions(server)
    assert (record["state"], record["energy_wh"]) == ("ended", 4000)
    assert record["started_at"].startswith("2026-11-20T08:00") and record["stopped_at"].startswith(
        "2026-11-20T09:00"
    )
    values = (await server.http.get(f"/api/v1/transactions/{record['id']}/meter-values")).json()
    energy = [v["value"] for v in values if v["measurand"] == "Energy.Active.Import.Register"]
    assert energy == [100, 1100, 2100, 3100, 4100]


async def test_transaction_survives_server_restart(database_url: str) -> None:
    async with run_server(database_url) as server:
        await _setup(server)
        async with connect(server.ws_base, "CP-X", "ocpp1.6") as st:
            tx = (
                await st.result(
                    "StartTransaction",
                    {
                        "connectorId": 1,
                        "idTag": "TAG",
                        "meterStart": 0,
                        "timestamp": "2026-11-23T08:00:00Z",
                    },
                )
            )["transactionId"]
    async with run_server(database_url) as server, connect(server.ws_base, "CP-X", "ocpp1.6") as st:
        reply = await st.result(
            "StopTransaction",
            {
                "transactionId": tx,
                "meterStop": 8000,
                "idTag": "TAG",
                "timestamp": "2026-11-23T09:00:00Z",
            },
        )
        assert reply["idTagInfo"]["status"] == "Accepted"
        [record] = await _transactions(server)
        assert (record["id"], record["state"], record["energy_wh"]) == (tx, "ended", 8000)


async def test_v201_transaction_survives_server_restart(database_url: str) -> None:
    async with run_server(database_url) as server:
        await _setup(server)
        async with connect(server.ws_base, "CP-X", "ocpp2.0.1") as st:
            await st.result(
                "TransactionEvent",
                event(
                    "Started",
                    0,
                    "2026-11-23T08:00:00Z",
                    evse={"id": 1, "connectorId": 1},
                    meterValue=[meter("2026-11-23T08:00:00Z", 1000, 0)],
                ),
            )
    async with run_server(database_url) as server:
        async with connect(server.ws_base, "CP-X", "ocpp2.0.1") as st:
            await st.result(
                "TransactionEvent",
                event(
                    "Ended",
                    1,
                    "2026-11-23T09:00:00Z",
                    meterValue=[meter("2026-11-23T09:00:00Z", 9000, 0)],
                ),
            )
        [record] = await _transactions(server)
        assert (record["state"], record["energy_wh"]) == ("ended", 8000)


async def test_stop_of_unknown_transaction_is_acknowledged(server: LiveServer) -> None:
    await _setup(server)
    async with connect(server.ws_base, "CP-X", "ocpp1.6") as st:
        reply = await st.result(
            "StopTransaction",
            {"transactionId": 4242, "meterStop": 1, "timestamp": "2026-11-23T09:00:00Z"},
        )
        assert reply == {}
