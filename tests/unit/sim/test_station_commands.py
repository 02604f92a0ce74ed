"""CSMS-initiated operations on a simulated station, both protocol versions."""

from __future__ import annotations

from typing import Any

import pytest
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201
from ocpp.v201 import datatypes as dt201

from evhub.clock import FrozenClock
from evhub.sim.ev import SimEV
from evhub.sim.station import SimStation

from . import ocpp_calls as calls
from .conftest import FakeCsms, HttpSink, advance_until, eventually


def ev() -> SimEV:
    return SimEV(battery_kwh=60, soc=0.3)


def last_status(csms: FakeCsms, evse_id: int) -> str:
    key = "connectorId" if csms.version == "1.6" else "evseId"
    field = "status" if csms.version == "1.6" else "connectorStatus"
    return [s[field] for s in csms.sent("StatusNotification") if s[key] == evse_id][-1]


async def started(csms: FakeCsms) -> list[dict[str, Any]]:
    if csms.version == "1.6":
        return await csms.wait_for("StartTransaction")
    return await csms.wait_for("TransactionEvent", where=lambda p: p["eventType"] == "Started")


async def ended(csms: FakeCsms) -> dict[str, Any]:
    if csms.version == "1.6":
        (stop,) = await csms.wait_for("StopTransaction")
        return {"reason": stop["reason"]}
    (end,) = await csms.wait_for("TransactionEvent", where=lambda p: p["eventType"] == "Ended")
    return {"reason": end["transactionInfo"]["stoppedReason"], "trigger": end["triggerReason"]}


async def test_remote_start_starts_the_waiting_ev(station: SimStation, csms: FakeCsms) -> None:
    assert await station.plug_in(1, ev()) is None
    reply = await csms.call("CP-1", calls.remote_start(csms.version, 1, "APP-7"))
    assert reply.status == "Accepted"
    (start,) = await started(csms)
    if csms.version == "1.6":
        assert start["idTag"] == "APP-7"
    else:
        assert start["triggerReason"] == "RemoteStart"
        assert start["transactionInfo"]["remoteStartId"] == 5
        assert start["idToken"] == {"idToken": "APP-7", "type": "Central"}
    assert "Authorize" not in [action for action, _ in csms.calls]
    await station.unplug(1)


async def test_remote_start_before_the_car_arrives(station: SimStation, csms: FakeCsms) -> None:
    reply = await csms.call("CP-1", calls.remote_start(csms.version, 1, "APP-7"))
    assert reply.status == "Accepted"
    tx = await station.plug_in(1, ev())
    assert tx is not None and station.evse(1).id_token == "APP-7"
    await station.unplug(1)


async def test_remote_start_on_a_busy_evse_is_rejected(station: SimStation, csms: FakeCsms) -> None:
    await station.plug_in(1, ev(), "TOKEN-1")
    reply = await csms.call("CP-1", calls.remote_start(csms.version, 1, "APP-7"))
    assert reply.status == "Rejected"
    await station.unplug(1)


async def test_remote_stop_ends_the_transaction(station: SimStation, csms: FakeCsms) -> None:
    tx = await station.plug_in(1, ev(), "TOKEN-1")
    assert tx is not None
    reply = await csms.call("CP-1", calls.remote_stop(csms.version, "999"))
    assert reply.status == "Rejected"
    reply = await csms.call("CP-1", calls.remote_stop(csms.version, tx))
    assert reply.status == "Accepted"
    assert (await ended(csms))["reason"] == "Remote"
    await eventually(lambda: station.evse(1).state == "Finishing")
    await station.unplug(1)
    assert last_status(csms, 1) == "Available"


async def test_tx_profile_needs_a_running_transaction(station: SimStation, csms: FakeCsms) -> None:
    reply = await csms.call("CP-1", calls.set_profile(csms.version, 1, "TxProfile", 5000))
    assert reply.status == "Rejected"
    reply = await csms.call("CP-1", calls.set_profile(csms.version, 1, "StationMax", 5000))
    assert reply.status == "Rejected"  # a station cap belongs on EVSE 0
    assert station.profiles == []


async def test_clear_charging_profile_restores_the_rating(
    station: SimStation, csms: FakeCsms
) -> None:
    profile = calls.set_profile(csms.version, 0, "TxDefaultProfile", 5000, profile_id=4)
    assert (await csms.call("CP-1", profile)).status == "Accepted"
    assert station.current_limit_kw(1) == 5
    assert (await csms.call("CP-1", calls.clear_profile(csms.version, 4))).status == "Accepted"
    assert station.current_limit_kw(1) == 22
    assert (await csms.call("CP-1", calls.clear_profile(csms.version, 4))).status == "Unknown"


async def test_reservation_answer_is_configurable(station: SimStation, csms: FakeCsms) -> None:
    expiry = "2025-03-03T09:00:00+00:00"
    station.reservation_answers[1] = "Occupied"
    reply = await csms.call("CP-1", calls.reserve(csms.version, 1, 1, "TOKEN-1", expiry))
    assert reply.status == "Occupied"
    del station.reservation_answers[1]
    reply = await csms.call("CP-1", calls.reserve(csms.version, 1, 1, "TOKEN-1", expiry))
    assert reply.status == "Accepted"
    await csms.wait_for("StatusNotification", 3)
    assert last_status(csms, 1) == "Reserved"
    reply = await csms.call("CP-1", calls.cancel_reservation(csms.version, 1))
    assert reply.status == "Accepted"
    await csms.wait_for("StatusNotification", 4)
    assert last_status(csms, 1) == "Available"
    reply = await csms.call("CP-1", calls.cancel_reservation(csms.version, 1))
    assert reply.status == "Rejected"


async def test_reserved_evse_passes_the_reservation_to_the_transaction(
    station: SimStation, csms: FakeCsms
) -> None:
    expiry = "2025-03-03T09:00:00+00:00"
    await csms.call("CP-1", calls.reserve(csms.version, 8, 1, "TOKEN-1", expiry))
    await station.plug_in(1, ev(), "TOKEN-1")
    (start,) = await started(csms)
    assert start["reservationId"] == 8
    await station.unplug(1)
    assert station.evse(1).reservation is None


async def test_firmware_update_reports_each_stage(
    station: SimStation, csms: FakeCsms, clock: FrozenClock
) -> None:
    await csms.call("CP-1", calls.update_firmware(csms.version, "http://example.invalid/fw"))
    await advance_until(
        clock, lambda: len(csms.sent("FirmwareStatusNotification")) == 4, station.firmware_step_s
    )
    reports = csms.sent("FirmwareStatusNotification")
    statuses = [r["status"] for r in reports]
    assert statuses == ["Downloading", "Downloaded", "Installing", "Installed"]
    if csms.version == "2.0.1":
        assert {r["requestId"] for r in reports} == {11}


async def test_diagnostics_are_put_over_http(
    station: SimStation, csms: FakeCsms, http_sink: HttpSink
) -> None:
    reply = await csms.call("CP-1", calls.get_log(csms.version, http_sink.url))
    action = "DiagnosticsStatusNotification" if csms.version == "1.6" else "LogStatusNotification"
    reports = await csms.wait_for(action, 2)
    assert [r["status"] for r in reports] == ["Uploading", "Uploaded"]
    filename = reply.file_name if csms.version == "1.6" else reply.filename
    ((path, body),) = http_sink.uploads
    assert path == f"/uploads/{filename}"
    assert b"BootNotification" in body
    if csms.version == "2.0.1":
        assert {r["requestId"] for r in reports} == {3}


async def test_failed_upload_is_reported(station: SimStation, csms: FakeCsms) -> None:
    await csms.call("CP-1", calls.get_log(csms.version, "ftp://127.0.0.1:9/logs"))
    action = "DiagnosticsStatusNotification" if csms.version == "1.6" else "LogStatusNotification"
    reports = await csms.wait_for(action, 2)
    failed = "UploadFailed" if csms.version == "1.6" else "UploadFailure"
    assert reports[-1]["status"] == failed


async def test_reset_stops_transactions_and_boots_again(
    station: SimStation, csms: FakeCsms
) -> None:
    await station.plug_in(1, ev(), "TOKEN-1")
    assert (await csms.call("CP-1", calls.reset(csms.version))).status == "Accepted"
    stop = await ended(csms)
    assert stop["reason"] == ("SoftReset" if csms.version == "1.6" else "ImmediateReset")
    boots = await csms.wait_for("BootNotification", 2)
    if csms.version == "2.0.1":
        assert boots[-1]["reason"] == "RemoteReset"
    await station.reconnect()  # back to a settled session before unplugging
    await station.unplug(1)


async def test_change_availability_is_scheduled_during_a_transaction(
    station: SimStation, csms: FakeCsms
) -> None:
    reply = await csms.call("CP-1", calls.change_availability(csms.version, 2, False))
    assert reply.status == "Accepted"
    await csms.wait_for("StatusNotification", 3)
    assert last_status(csms, 2) == "Unavailable"
    await station.plug_in(1, ev(), "TOKEN-1")
    reply = await csms.call("CP-1", calls.change_availability(csms.version, 1, False))
    assert reply.status == "Scheduled"
    await station.unplug(1)
    assert last_status(csms, 1) == "Unavailable"
    reply = await csms.call("CP-1", calls.change_availability(csms.version, 0, True))
    assert reply.status == "Accepted"
    await csms.wait_for("StatusNotification", where=lambda s: "Available" in s.values(), n=4)


async def test_unlock_connector(station: SimStation, csms: FakeCsms) -> None:
    await station.plug_in(1, ev(), "TOKEN-1")
    reply = await csms.call("CP-1", calls.unlock(csms.version, 1))
    if csms.version == "1.6":  # 1.6 §5.18: unlocking stops the transaction
        assert reply.status == "Unlocked"
        assert (await ended(csms))["reason"] == "UnlockCommand"
    else:  # 2.0.1 F05.FR.02
        assert reply.status == "OngoingAuthorizedTransaction"
    await station.unplug(1)
    assert (await csms.call("CP-1", calls.unlock(csms.version, 1))).status == "Unlocked"


async def test_trigger_message(station: SimStation, csms: FakeCsms) -> None:
    reply = await csms.call("CP-1", calls.trigger(csms.version, "Heartbeat"))
    assert reply.status == "Accepted"
    await csms.wait_for("Heartbeat")
    reply = await csms.call("CP-1", calls.trigger(csms.version, "StatusNotification", 2))
    assert reply.status == "Accepted"
    await csms.wait_for("StatusNotification", 3)
    await station.plug_in(1, ev(), "TOKEN-1")
    reply = await csms.call("CP-1", calls.trigger(csms.version, "MeterValues", 1))
    assert reply.status == "Accepted"
    if csms.version == "1.6":
        await csms.wait_for("MeterValues")
    else:
        await csms.wait_for("TransactionEvent", where=lambda p: p["triggerReason"] == "Trigger")
        unsupported = calls.trigger(csms.version, "SignChargingStationCertificate")
        assert (await csms.call("CP-1", unsupported)).status == "NotImplemented"
    await station.unplug(1)


@pytest.mark.parametrize("csms", ["1.6"], indirect=True)
async def test_configuration_keys_1_6(station: SimStation, csms: FakeCsms) -> None:
    reply = await csms.call("CP-1", call16.GetConfiguration(key=["HeartbeatInterval", "Nope"]))
    assert reply.configuration_key == [
        {"key": "HeartbeatInterval", "readonly": False, "value": "300"}
    ]
    assert reply.unknown_key == ["Nope"]
    everything = await csms.call("CP-1", call16.GetConfiguration())
    assert len(everything.configuration_key) == len(station.config.values)
    change = call16.ChangeConfiguration(key="MeterValueSampleInterval", value="30")
    assert (await csms.call("CP-1", change)).status == "Accepted"
    assert station.meter_interval_s == 30
    readonly = call16.ChangeConfiguration(key="NumberOfConnectors", value="4")
    assert (await csms.call("CP-1", readonly)).status == "Rejected"
    unknown = call16.ChangeConfiguration(key="Nope", value="1")
    assert (await csms.call("CP-1", unknown)).status == "NotSupported"


@pytest.mark.parametrize("csms", ["2.0.1"], indirect=True)
async def test_device_model_variables_2_0_1(station: SimStation, csms: FakeCsms) -> None:
    def ref(component: str, variable: str) -> dict[str, Any]:
        return {
            "component": dt201.ComponentType(name=component),
            "variable": dt201.VariableType(name=variable),
        }

    get = call201.GetVariables(
        get_variable_data=[
            dt201.GetVariableDataType(**ref("OCPPCommCtrlr", "HeartbeatInterval")),
            dt201.GetVariableDataType(**ref("NoSuchCtrlr", "X")),
            dt201.GetVariableDataType(**ref("OCPPCommCtrlr", "X")),
        ]
    )
    results = (await csms.call("CP-1", get)).get_variable_result
    assert [r["attribute_status"] for r in results] == [
        "Accepted", "UnknownComponent", "UnknownVariable",
    ]  # fmt: skip
    assert results[0]["attribute_value"] == "300"
    set_ = call201.SetVariables(
        set_variable_data=[
            dt201.SetVariableDataType(
                attribute_value="30", **ref("SampledDataCtrlr", "TxUpdatedInterval")
            ),
            dt201.SetVariableDataType(
                attribute_value="-1", **ref("OCPPCommCtrlr", "HeartbeatInterval")
            ),
        ]
    )
    results = (await csms.call("CP-1", set_)).set_variable_result
    assert [r["attribute_status"] for r in results] == ["Accepted", "Rejected"]
    assert station.meter_interval_s == 30
