"""OCPP 2.0.1 side of the simulated station: outgoing messages and CSMS call handlers.

Same shape as `v16`: handlers translate payloads into `SimStation` calls. The differences of 2.0.1
live here: connector status is Available/Occupied/Reserved/Unavailable/Faulted (the finer states go
into TransactionEvent.chargingState), meter values travel in TransactionEvent Updated, the
transaction id is made by the station, and configuration is read through components/variables.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from ocpp.routing import on as _route_on
from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.datatypes import (
    ChargingStationType,
    EVSEType,
    GetVariableResultType,
    IdTokenType,
    MeterValueType,
    SampledValueType,
    SetVariableResultType,
    TransactionType,
    UnitOfMeasureType,
)
from ocpp.v201.enums import Action

from evhub.sim.profiles import Purpose, parse_time, profile_from_v201, purpose_from

if TYPE_CHECKING:
    from evhub.sim.station import ConnectorState, EvseRuntime, SimStation, StopReason, Wire

_Handler = TypeVar("_Handler", bound=Callable[..., Any])

_CONNECTOR_STATUS = {  # OCPP 2.0.1 ConnectorStatusEnumType from the 1.6-style state
    "Available": "Available",
    "Reserved": "Reserved",
    "Unavailable": "Unavailable",
    "Faulted": "Faulted",
}
_CHARGING_STATE = {
    "Charging": "Charging",
    "SuspendedEV": "SuspendedEV",
    "SuspendedEVSE": "SuspendedEVSE",
}
_STOP = {  # StopReason -> (triggerReason, stoppedReason), OCPP 2.0.1 E06 / E07
    "EVDisconnected": ("EVCommunicationLost", "EVDisconnected"),
    "Remote": ("RemoteStop", "Remote"),
    "SoftReset": ("ResetCommand", "ImmediateReset"),
    "HardReset": ("ResetCommand", "ImmediateReset"),
    "UnlockCommand": ("UnlockCommand", "Other"),
    "DeAuthorized": ("Deauthorized", "DeAuthorized"),
    "Local": ("StopAuthorized", "Local"),
}
_UPLOAD_STATUS = {"UploadFailed": "UploadFailure"}
VARIABLES = {  # (component, variable) -> key of the shared station configuration
    ("OCPPCommCtrlr", "HeartbeatInterval"): "HeartbeatInterval",
    ("SampledDataCtrlr", "TxUpdatedInterval"): "MeterValueSampleInterval",
    ("SampledDataCtrlr", "TxUpdatedMeasurands"): "MeterValuesSampledData",
    ("AuthCtrlr", "AuthorizeRemoteStart"): "AuthorizeRemoteTxRequests",
    ("TxCtrlr", "EVConnectionTimeOut"): "ConnectionTimeOut",
    ("SmartChargingCtrlr", "ProfileStackLevel"): "ChargeProfileMaxStackLevel",
    ("SmartChargingCtrlr", "RateUnit"): "ChargingScheduleAllowedChargingRateUnit",
}
_COMPONENTS = {component for component, _ in VARIABLES}


def on(action: Action) -> Callable[[_Handler], _Handler]:
    """The library's route decorator, typed."""
    return cast(Callable[[_Handler], _Handler], _route_on(action))


def connector_status(state: str) -> str:
    return _CONNECTOR_STATUS.get(state, "Occupied")


def charging_state(state: str) -> str:
    return _CHARGING_STATE.get(state, "EVConnected")


class ChargePointClient(ChargePoint):
    """The station's end of an `ocpp2.0.1` connection."""

    def __init__(self, station: SimStation, wire: Wire) -> None:
        super().__init__(station.station_id, wire, response_timeout=station.response_timeout_s)
        self.station = station

    def _now(self) -> str:
        return self.station.clock.now().isoformat()

    # -- station -> CSMS ---------------------------------------------------------------------

    async def boot(self, reason: str) -> tuple[str, int]:
        st = self.station
        reply = await self.call(
            call.BootNotification(
                charging_station=ChargingStationType(
                    vendor_name=st.vendor,
                    model=st.model,
                    serial_number=st.serial,
                    firmware_version=st.firmware,
                ),
                reason=reason,
            )
        )
        if reply is None:
            return "Rejected", 0
        return str(reply.status), int(reply.interval)

    async def heartbeat(self) -> None:
        await self.call(call.Heartbeat())

    async def status(
        self, evse: EvseRuntime, previous: ConnectorState | None, error_code: str
    ) -> None:
        """G01: connector status on change; E02: chargingState changes as TransactionEvent."""
        current = connector_status(evse.state)
        if previous is None or connector_status(previous) != current:
            await self.call(
                call.StatusNotification(
                    timestamp=self._now(),
                    connector_status=current,
                    evse_id=evse.evse_id,
                    connector_id=1,
                )
            )
        if (
            previous is not None
            and evse.transaction_id is not None
            and charging_state(previous) != charging_state(evse.state)
        ):
            await self._event(evse, "Updated", "ChargingStateChanged")

    async def authorize(self, id_token: str) -> bool:
        reply = await self.call(call.Authorize(id_token=IdTokenType(id_token, "ISO14443")))
        return reply is not None and reply.id_token_info.get("status") == "Accepted"

    async def start_transaction(self, evse: EvseRuntime, remote: bool) -> tuple[str, bool] | None:
        """E01/E02: the station names the transaction; the first event carries evse and token."""
        evse.transaction_id = str(uuid.uuid4())
        reply = await self._event(
            evse, "Started", "RemoteStart" if remote else "Authorized", context="Transaction.Begin"
        )
        if reply is None:
            evse.transaction_id = None
            return None
        info = reply.id_token_info or {}
        return evse.transaction_id, info.get("status", "Accepted") == "Accepted"

    async def meter_values(self, evse: EvseRuntime, triggered: bool) -> None:
        """J02: during a transaction samples go in TransactionEvent Updated, else MeterValues."""
        if evse.transaction_id is not None:
            trigger = "Trigger" if triggered else "MeterValuePeriodic"
            context = "Trigger" if triggered else "Sample.Periodic"
            await self._event(evse, "Updated", trigger, context=context)
            return
        meter = self._meter_value(evse, "Trigger")
        await self.call(call.MeterValues(evse_id=evse.evse_id, meter_value=[meter]))

    async def stop_transaction(self, evse: EvseRuntime, reason: StopReason) -> None:
        trigger, stopped = _STOP.get(str(reason), ("AbnormalCondition", "Other"))
        await self._event(evse, "Ended", trigger, context="Transaction.End", stopped=stopped)

    @staticmethod
    def _charging_state(evse: EvseRuntime, stopped: str | None) -> str:
        if stopped is None:
            return charging_state(evse.state)
        return "Idle" if stopped == "EVDisconnected" else "EVConnected"

    async def firmware_status(self, status: str, request_id: int | None) -> None:
        await self.call(call.FirmwareStatusNotification(status=status, request_id=request_id))

    async def upload_status(self, status: str, request_id: int | None) -> None:
        status = _UPLOAD_STATUS.get(status, status)
        await self.call(call.LogStatusNotification(status=status, request_id=request_id))

    def _meter_value(self, evse: EvseRuntime, context: str) -> MeterValueType:
        return MeterValueType(
            timestamp=self._now(),
            sampled_value=[
                SampledValueType(
                    value=s.value,
                    context=context,
                    measurand=s.measurand,
                    phase=s.phase,
                    location="Outlet",
                    unit_of_measure=UnitOfMeasureType(unit=s.unit),
                )
                for s in evse.samples()
            ],
        )

    async def _event(
        self,
        evse: EvseRuntime,
        event_type: str,
        trigger: str,
        *,
        context: str | None = None,
        stopped: str | None = None,
    ) -> Any:
        assert evse.transaction_id is not None
        started = event_type == "Started"
        token = None
        if started and evse.id_token is not None:
            token = IdTokenType(evse.id_token, evse.id_token_type)
        return await self.call(
            call.TransactionEvent(
                event_type=event_type,
                timestamp=self._now(),
                trigger_reason=trigger,
                seq_no=evse.next_seq_no(),
                transaction_info=TransactionType(
                    transaction_id=evse.transaction_id,
                    charging_state=self._charging_state(evse, stopped),
                    stopped_reason=stopped,
                    remote_start_id=evse.remote_start_id,
                ),
                meter_value=[self._meter_value(evse, context)] if context else None,
                evse=EVSEType(id=evse.evse_id, connector_id=1) if started else None,
                id_token=token,
                reservation_id=evse.reservation_id if started else None,
            )
        )

    # -- CSMS -> station ---------------------------------------------------------------------

    @on(Action.set_charging_profile)
    def on_set_charging_profile(
        self, evse_id: int, charging_profile: dict[str, Any], **_: Any
    ) -> call_result.SetChargingProfile:
        profile = profile_from_v201(evse_id, charging_profile, self.station.clock.now())
        accepted = self.station.install_profile(profile)
        return call_result.SetChargingProfile(status="Accepted" if accepted else "Rejected")

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(
        self,
        charging_profile_id: int | None = None,
        charging_profile_criteria: dict[str, Any] | None = None,
        **_: Any,
    ) -> call_result.ClearChargingProfile:
        criteria = charging_profile_criteria or {}
        name = criteria.get("charging_profile_purpose")
        removed = self.station.clear_profiles(
            charging_profile_id,
            criteria.get("evse_id"),
            purpose_from(name) if name else None,
            criteria.get("stack_level"),
        )
        return call_result.ClearChargingProfile(status="Accepted" if removed else "Unknown")

    @on(Action.request_start_transaction)
    def on_request_start_transaction(
        self,
        id_token: dict[str, Any],
        remote_start_id: int,
        evse_id: int | None = None,
        charging_profile: dict[str, Any] | None = None,
        **_: Any,
    ) -> call_result.RequestStartTransaction:
        profile = None
        if charging_profile is not None:  # F01/F02: only a TxProfile may come along
            profile = profile_from_v201(evse_id or 0, charging_profile, self.station.clock.now())
            if profile.purpose is not Purpose.TX:
                return call_result.RequestStartTransaction(status="Rejected")
        started = self.station.remote_start(
            evse_id or None, id_token["id_token"], remote_start_id, profile, id_token["type"]
        )
        return call_result.RequestStartTransaction(status="Accepted" if started else "Rejected")

    @on(Action.request_stop_transaction)
    def on_request_stop_transaction(
        self, transaction_id: str, **_: Any
    ) -> call_result.RequestStopTransaction:
        stopped = self.station.remote_stop(transaction_id)
        return call_result.RequestStopTransaction(status="Accepted" if stopped else "Rejected")

    @on(Action.reset)
    def on_reset(self, type: str, **_: Any) -> call_result.Reset:
        """B11/B12; OnIdle is carried out at once (the simulator does not wait for idle)."""
        self.station.reset(hard=type == "Immediate")
        return call_result.Reset(status="Accepted")

    @on(Action.change_availability)
    def on_change_availability(
        self, operational_status: str, evse: dict[str, Any] | None = None, **_: Any
    ) -> call_result.ChangeAvailability:
        evse_id = int(evse["id"]) if evse else 0
        status = self.station.change_availability(evse_id, operational_status == "Operative")
        return call_result.ChangeAvailability(status=status)

    @on(Action.unlock_connector)
    def on_unlock_connector(
        self, evse_id: int, connector_id: int, **_: Any
    ) -> call_result.UnlockConnector:
        outcome = self.station.unlock(evse_id, stop_running=False)
        status = {"Ongoing": "OngoingAuthorizedTransaction", "Unknown": "UnknownConnector"}
        return call_result.UnlockConnector(status=status.get(outcome, outcome))

    @on(Action.trigger_message)
    def on_trigger_message(
        self, requested_message: str, evse: dict[str, Any] | None = None, **_: Any
    ) -> call_result.TriggerMessage:
        evse_id = int(evse["id"]) if evse else None
        accepted = self.station.trigger(requested_message, evse_id)
        return call_result.TriggerMessage(status="Accepted" if accepted else "NotImplemented")

    @on(Action.get_variables)
    def on_get_variables(
        self, get_variable_data: list[dict[str, Any]], **_: Any
    ) -> call_result.GetVariables:
        results = []
        for item in get_variable_data:
            component, variable = item["component"], item["variable"]
            key = VARIABLES.get((component["name"], variable["name"]))
            value = self.station.config.values.get(key) if key else None
            results.append(
                GetVariableResultType(
                    attribute_status="Accepted" if value is not None else _unknown(component),
                    component=component,
                    variable=variable,
                    attribute_value=value,
                )
            )
        return call_result.GetVariables(get_variable_result=results)

    @on(Action.set_variables)
    def on_set_variables(
        self, set_variable_data: list[dict[str, Any]], **_: Any
    ) -> call_result.SetVariables:
        results = []
        for item in set_variable_data:
            component, variable = item["component"], item["variable"]
            key = VARIABLES.get((component["name"], variable["name"]))
            status = _unknown(component)
            if key is not None:
                status = self.station.config.set(key, item["attribute_value"])
                status = "UnknownVariable" if status == "NotSupported" else status
            results.append(
                SetVariableResultType(
                    attribute_status=status, component=component, variable=variable
                )
            )
        return call_result.SetVariables(set_variable_result=results)

    @on(Action.reserve_now)
    def on_reserve_now(
        self,
        id: int,
        expiry_date_time: str,
        id_token: dict[str, Any],
        evse_id: int | None = None,
        **_: Any,
    ) -> call_result.ReserveNow:
        status = self.station.reserve(
            id, evse_id or None, id_token["id_token"], parse_time(expiry_date_time)
        )
        return call_result.ReserveNow(status=status)

    @on(Action.cancel_reservation)
    def on_cancel_reservation(self, reservation_id: int, **_: Any) -> call_result.CancelReservation:
        cancelled = self.station.cancel_reservation(reservation_id)
        return call_result.CancelReservation(status="Accepted" if cancelled else "Rejected")

    @on(Action.update_firmware)
    def on_update_firmware(
        self, request_id: int, firmware: dict[str, Any], **_: Any
    ) -> call_result.UpdateFirmware:
        self.station.update_firmware(firmware["location"], request_id)
        return call_result.UpdateFirmware(status="Accepted")

    @on(Action.get_log)
    def on_get_log(
        self, log: dict[str, Any], log_type: str, request_id: int, **_: Any
    ) -> call_result.GetLog:
        filename = self.station.upload_log(log["remote_location"], request_id)
        return call_result.GetLog(status="Accepted", filename=filename)


def _unknown(component: dict[str, Any]) -> str:
    return "UnknownVariable" if component["name"] in _COMPONENTS else "UnknownComponent"
