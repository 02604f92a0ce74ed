"""A simulated station against a fake CSMS: connection, charging sessions, limits, faults."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest
import websockets
from websockets.exceptions import InvalidHandshake

from evhub.clock import FrozenClock
from evhub.sim.ev import SimEV
from evhub.sim.station import SimError, SimStation

from .conftest import FakeCsms, advance, advance_until, eventually, make_station
from .ocpp_calls import meter_payloads, sample, set_profile


def actions(csms: FakeCsms) -> list[str]:
    return [action for action, _ in csms.calls]


async def tick(clock: FrozenClock, csms: FakeCsms, meter_reports: int) -> None:
    """Advance one meter interval and wait until the station has reported."""
    await advance(clock, 60)
    await csms.wait_for(
        "MeterValues" if csms.version == "1.6" else "TransactionEvent",
        where=lambda p: csms.version == "1.6" or p["triggerReason"] == "MeterValuePeriodic",
        n=meter_reports,
    )


async def test_station_boots_announces_connectors_and_authenticates(
    station: SimStation, csms: FakeCsms
) -> None:
    statuses = await csms.wait_for("StatusNotification", 2)
    assert actions(csms)[0] == "BootNotification"
    assert station.boot_status == "Accepted"
    expected = "Basic " + base64.b64encode(b"CP-1:secret").decode()
    assert csms.authorizations == [expected]
    key = "status" if csms.version == "1.6" else "connectorStatus"
    assert [s[key] for s in statuses] == ["Available", "Available"]


async def test_boot_is_retried_after_pending(csms: FakeCsms, clock: FrozenClock) -> None:
    csms.boot_status, csms.interval = "Pending", 30
    st = make_station(csms, clock)
    starting = asyncio.create_task(st.start())
    await eventually(lambda: st.boot_status == "Pending")
    csms.boot_status = "Accepted"
    await advance_until(clock, starting.done, 30)
    await starting
    assert len(csms.sent("BootNotification")) == 2
    assert st.heartbeat_interval_s == 30
    await st.stop()


async def test_heartbeat_follows_the_boot_interval(
    station: SimStation, csms: FakeCsms, clock: FrozenClock
) -> None:
    await advance(clock, 300)
    await csms.wait_for("Heartbeat")


async def test_charging_session_message_sequence(
    station: SimStation, csms: FakeCsms, clock: FrozenClock
) -> None:
    ev = SimEV(battery_kwh=60, soc=0.3, max_ac_kw=11)
    tx = await station.plug_in(1, ev, "TOKEN-1")
    assert tx is not None
    await tick(clock, csms, 1)
    await tick(clock, csms, 2)
    await station.unplug(1)
    meters = meter_payloads(csms.calls, csms.version)
    registers = [sample(p, "Energy.Active.Import.Register") for p in meters]
    assert registers == [183, 367]  # 11 kW for one and two minutes
    assert sample(meters[0], "Power.Active.Import") == 11000
    assert sample(meters[0], "Current.Import", "L2") == pytest.approx(15.9)
    assert ev.soc > 0.3
    if csms.version == "1.6":
        assert actions(csms)[3:] == [
            "StatusNotification", "Authorize", "StartTransaction", "StatusNotification",
            "MeterValues", "MeterValues", "StopTransaction", "StatusNotification",
            "StatusNotification",
        ]  # fmt: skip
        assert all(p["transactionId"] == int(tx) for p in meters)
        (stop,) = csms.sent("StopTransaction")
        assert (stop["meterStop"], stop["reason"]) == (367, "EVDisconnected")
        assert [s["status"] for s in csms.sent("StatusNotification")][2:] == [
            "Preparing", "Charging", "Finishing", "Available",
        ]  # fmt: skip
    else:
        events = csms.sent("TransactionEvent")
        assert [e["eventType"] for e in events] == [
            "Started",
            "Updated",
            "Updated",
            "Updated",
            "Ended",
        ]
        assert [e["seqNo"] for e in events] == [0, 1, 2, 3, 4]
        assert {e["transactionInfo"]["transactionId"] for e in events} == {tx}
        assert events[0]["evse"] == {"id": 1, "connectorId": 1}
        assert events[0]["idToken"]["idToken"] == "TOKEN-1"
        assert events[-1]["transactionInfo"]["stoppedReason"] == "EVDisconnected"
        assert sample(events[-1], "Energy.Active.Import.Register") == 367
        states = [s["connectorStatus"] for s in csms.sent("StatusNotification")][2:]
        assert states == ["Occupied", "Available"]


async def test_dc_session_reports_soc(
    station: SimStation, csms: FakeCsms, clock: FrozenClock
) -> None:
    await station.plug_in(2, SimEV(battery_kwh=50, soc=0.5, max_dc_kw=100), "TOKEN-1")
    await tick(clock, csms, 1)
    (meter,) = meter_payloads(csms.calls, csms.version)
    assert sample(meter, "Power.Active.Import") == 50000
    assert sample(meter, "SoC") == pytest.approx(51.7, abs=0.1)
    await station.unplug(2)


async def test_rejected_token_does_not_start_a_transaction(
    station: SimStation, csms: FakeCsms
) -> None:
    csms.blocked_tokens.add("STOLEN")
    assert await station.plug_in(1, SimEV(battery_kwh=60, soc=0.3), "STOLEN") is None
    assert station.evse(1).transaction_id is None
    assert "StartTransaction" not in actions(csms)
    await station.unplug(1)


async def test_station_obeys_a_tx_profile(
    station: SimStation, csms: FakeCsms, clock: FrozenClock
) -> None:
    tx = await station.plug_in(1, SimEV(battery_kwh=60, soc=0.3, max_ac_kw=22), "TOKEN-1")
    await tick(clock, csms, 1)
    reply = await csms.call(
        "CP-1", set_profile(csms.version, 1, "TxProfile", 10, unit="A", transaction_id=tx)
    )
    assert reply.status == "Accepted"
    assert station.current_limit_kw(1) == pytest.approx(6.9)
    await tick(clock, csms, 2)
    meters = meter_payloads(csms.calls, csms.version)
    assert sample(meters[0], "Power.Active.Import") == 22000
    assert sample(meters[1], "Power.Active.Import") == 6900
    assert sample(meters[1], "Current.Import", "L1") == 10
    assert station.received[-1][0] == "SetChargingProfile"
    assert len(station.profile_log) == 1
    await station.unplug(1)
    assert station.profiles == []  # a TxProfile ends with its transaction


async def test_zero_limit_suspends_the_evse(
    station: SimStation, csms: FakeCsms, clock: FrozenClock
) -> None:
    await station.plug_in(1, SimEV(battery_kwh=60, soc=0.3), "TOKEN-1")
    await csms.call("CP-1", set_profile(csms.version, 0, "TxDefaultProfile", 0))
    await tick(clock, csms, 1)
    assert station.evse(1).state == "SuspendedEVSE"
    await station.unplug(1)


async def test_station_cap_is_shared_between_evses(
    station: SimStation, csms: FakeCsms, clock: FrozenClock
) -> None:
    reply = await csms.call("CP-1", set_profile(csms.version, 0, "StationMax", 20000))
    assert reply.status == "Accepted"
    await station.plug_in(1, SimEV(battery_kwh=60, soc=0.3, max_ac_kw=11), "A")
    await station.plug_in(2, SimEV(battery_kwh=60, soc=0.3, max_dc_kw=100), "B")
    await tick(clock, csms, 2)
    meters = meter_payloads(csms.calls, csms.version)[-2:]
    total = sum(sample(p, "Power.Active.Import") for p in meters)
    assert total == pytest.approx(20000, abs=1)
    assert station.current_limit_kw(2) == 20
    await station.unplug(1)
    await station.unplug(2)


async def test_full_ev_goes_suspended_ev(
    station: SimStation, csms: FakeCsms, clock: FrozenClock
) -> None:
    ev = SimEV(battery_kwh=10, soc=0.4995, target_soc=0.5)
    await station.plug_in(1, ev, "TOKEN-1")
    await tick(clock, csms, 1)
    assert ev.full
    assert station.evse(1).state == "SuspendedEV"
    if csms.version == "1.6":
        assert csms.sent("StatusNotification")[-1]["status"] == "SuspendedEV"
    else:
        states = [e["transactionInfo"]["chargingState"] for e in csms.sent("TransactionEvent")]
        assert "SuspendedEV" in states
    await station.unplug(1)


async def test_fault_injection_reports_the_error(station: SimStation, csms: FakeCsms) -> None:
    await station.send_status(1, "Faulted", "GroundFailure")
    last = csms.sent("StatusNotification")[-1]
    if csms.version == "1.6":
        assert (last["status"], last["errorCode"]) == ("Faulted", "GroundFailure")
    else:
        assert last["connectorStatus"] == "Faulted"
    with pytest.raises(SimError):
        await station.plug_in(1, SimEV(battery_kwh=60, soc=0.3), "TOKEN-1")


async def test_raw_frames_get_the_csms_reply(station: SimStation) -> None:
    reply = await station.send_raw('[2, "raw-1", "NoSuchAction", {}]')
    assert reply is not None
    assert json.loads(reply)[:3] == [4, "raw-1", "NotSupported"]
    assert await station.send_raw("this is not json", timeout_s=0.2) is None


async def test_silent_station_ignores_calls_until_it_reconnects(
    station: SimStation, csms: FakeCsms
) -> None:
    station.go_silent()
    point = csms.points["CP-1"]
    point._response_timeout = 0.2
    with pytest.raises(TimeoutError):
        await point.call(set_profile(csms.version, 0, "TxDefaultProfile", 5000))
    announced = len(csms.sent("StatusNotification"))
    await station.reconnect()
    assert csms.points["CP-1"] is not point
    assert len(csms.sent("StatusNotification")) == announced + 2
    assert len(csms.sent("BootNotification")) == 1
    await station.reconnect(reboot=True)
    assert len(csms.sent("BootNotification")) == 2


async def test_station_reconnects_when_the_csms_drops_it(
    station: SimStation, csms: FakeCsms, clock: FrozenClock
) -> None:
    await csms.points["CP-1"]._connection.close()
    await advance_until(clock, lambda: len(csms.sent("StatusNotification")) == 4, 1)
    assert len(csms.authorizations) == 2


async def test_stop_leaves_no_task_behind(csms: FakeCsms, clock: FrozenClock) -> None:
    st = make_station(csms, clock)
    await st.start()
    await st.plug_in(1, SimEV(battery_kwh=60, soc=0.3), "TOKEN-1")
    await st.stop()
    assert not st._tasks
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("sim-")]
    await st.stop()  # idempotent


@pytest.mark.parametrize("csms", ["1.6"], indirect=True)
async def test_start_fails_when_nobody_listens(csms: FakeCsms, clock: FrozenClock) -> None:
    st = SimStation("CP-9", "x", "1.6", "ws://127.0.0.1:9/ocpp", [], clock=clock)
    with pytest.raises(OSError):
        await st.start()


async def test_start_fails_on_a_version_the_csms_does_not_speak(clock: FrozenClock) -> None:
    async def handler(ws: websockets.ServerConnection) -> None:
        await ws.wait_closed()

    async with websockets.serve(handler, "127.0.0.1", 0, subprotocols=["ocpp2.0.1"]) as server:
        port = server.sockets[0].getsockname()[1]
        st = SimStation("CP-9", "x", "1.6", f"ws://127.0.0.1:{port}/ocpp", [], clock=clock)
        with pytest.raises(InvalidHandshake):
            await st.start()


async def test_start_fails_when_the_csms_ignores_the_subprotocol(clock: FrozenClock) -> None:
    async def handler(ws: websockets.ServerConnection) -> None:
        await ws.wait_closed()

    async with websockets.serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        st = SimStation("CP-9", "x", "2.0.1", f"ws://127.0.0.1:{port}/ocpp", [], clock=clock)
        with pytest.raises(SimError):
            await st.start()
