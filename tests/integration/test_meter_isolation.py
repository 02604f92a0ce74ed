"""One station's bad meter values never cost another station its own: every honest
MeterValues is acknowledged and stored, whatever its neighbour sends at the same moment."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import text

from tests.integration.live_server import LiveServer
from tests.integration.ocpp_client import RawStation, connect

ROUNDS = 40


async def _setup(server: LiveServer) -> None:
    site = await server.add_site()
    for station in ("CP-GOOD", "CP-BAD"):
        await server.add_station(station, site, evses=[{"evse_id": 1}])
    await server.add_token("TAG")


def _meter_values(tx: int, minute: int, value: str) -> dict[str, Any]:
    ts = f"2026-11-23T{8 + minute // 60:02d}:{minute % 60:02d}:00Z"
    reading = {"timestamp": ts, "sampledValue": [{"value": value}]}
    return {"connectorId": 1, "transactionId": tx, "meterValue": [reading]}


async def _start(st: RawStation) -> int:
    start = {"connectorId": 1, "idTag": "TAG", "meterStart": 0, "timestamp": "2026-11-23T08:00:00Z"}
    return int((await st.result("StartTransaction", start))["transactionId"])


async def _side_by_side(server: LiveServer, bad_value: str) -> tuple[list[Any], list[Any], int]:
    """Both stations send a MeterValues at the same moment, ROUNDS times; the replies of each
    and the good station's transaction."""
    async with (
        connect(server.ws_base, "CP-GOOD", "ocpp1.6") as good,
        connect(server.ws_base, "CP-BAD", "ocpp1.6") as bad,
    ):
        good_tx, bad_tx = await _start(good), await _start(bad)
        good_replies, bad_replies = [], []
        for minute in range(1, ROUNDS + 1):
            mine, theirs = await asyncio.gather(
                good.call("MeterValues", _meter_values(good_tx, minute, str(100 * minute))),
                bad.call("MeterValues", _meter_values(bad_tx, minute, bad_value)),
            )
            good_replies.append(mine)
            bad_replies.append(theirs)
    return good_replies, bad_replies, good_tx


async def _stored_values(server: LiveServer, tx: int) -> list[float]:
    r = await server.http.get(f"/api/v1/transactions/{tx}/meter-values")
    return [v["value"] for v in r.json()]


async def test_a_station_sending_nan_beside_an_honest_one(server: LiveServer) -> None:
    await _setup(server)
    good, bad, tx = await _side_by_side(server, "NaN")
    assert all(reply[0] == 3 for reply in good), [r for r in good if r[0] != 3]
    assert {reply[2] for reply in bad} == {"PropertyConstraintViolation"}
    assert await _stored_values(server, tx) == [100.0 * m for m in range(1, ROUNDS + 1)]


async def test_messages_the_database_refuses_fail_alone(server: LiveServer) -> None:
    """The database itself refuses the bad station's rows (a rule added for the test); the
    good station's messages shared commits with them and are all stored."""
    await _setup(server)
    async with server.app.state.gateway.uow() as s:
        if s.get_bind().dialect.name == "postgresql":
            await s.execute(
                text(
                    "ALTER TABLE meter_values ADD CONSTRAINT ck_test_refuse_bad "
                    "CHECK (station_id <> 'CP-BAD')"
                )
            )
        else:
            await s.execute(
                text(
                    "CREATE TRIGGER tr_test_refuse_bad BEFORE INSERT ON meter_values "
                    "WHEN NEW.station_id = 'CP-BAD' "
                    "BEGIN SELECT RAISE(ABORT, 'refused for the test'); END"
                )
            )
    writer = server.app.state.gateway.meter_writer
    good, bad, tx = await _side_by_side(server, "250")
    assert all(reply[0] == 3 for reply in good), [r for r in good if r[0] != 3]
    assert {reply[2] for reply in bad} == {"InternalError"}
    assert await _stored_values(server, tx) == [100.0 * m for m in range(1, ROUNDS + 1)]
    assert writer.isolated_failures == ROUNDS
    # The good station's messages did share failing commits with the bad one's.
    assert writer.rescued > 0
