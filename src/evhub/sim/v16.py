"""OCPP 1.6 (JSON) side of the simulated station: outgoing messages and CSMS call handlers.

Handlers only translate payloads into calls of `SimStation`, which holds the behaviour shared with
2.0.1; anything a call triggers afterwards (status, firmware stages, uploads) is deferred by the
station until the reply has been sent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from ocpp.routing import on as _route_on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.datatypes import KeyValue, MeterValue, SampledValue
from ocpp.v16.enums import Action

from evhub.sim.profiles import Purpose, parse_time, profile_from_v16, purpose_from

if TYPE_CHECKING:
    from evhub.sim.station import ConnectorState, EvseRuntime, SimStation, StopReason, Wire

_Handler = TypeVar("_Handler", bound=Callable[..., Any])


def on(action: Action) -> Callable[[_Handler], _Handler]:
    """The library's route decorator, typed."""
    return cast(Callable[[_Handler], _Handler], _route_on(action))


def _number(value: float) -> str:
    """1.6 SampledValue.value is a string; registers print as integers."""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


class ChargePointClient(ChargePoint):
    """The station's end of an `ocpp1.6` connection."""

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
                charge_point_model=st.model,
                charge_point_vendor=st.vendor,
                charge_point_serial_number=st.serial,
                firmware_version=st.firmware,
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
        """OCPP 1.6 §4.9: every state change of a connector is reported."""
        await self.call(
            call.StatusNotification(
                connector_id=evse.evse_id,
                error_code=error_code,
                status=str(evse.state),
                timestamp=self._now(),
            )
        )

    async def authorize(self, id_token: str) -> bool:
        reply = await self.call(call.Authorize(id_tag=id_token))
        return reply is not None and reply.id_tag_info.get("status") == "Accepted"

    async def start_transaction(self, evse: EvseRuntime, remote: bool) -> tuple[str, bool] | None:
        assert evse.id_token is not None and evse.transaction_start is not None
        reply = await self.call(
            call.StartTransaction(
                connector_id=evse.evse_id,
                id_tag=evse.id_token,
                meter_start=round(evse.meter_start_wh),
                timestamp=evse.transaction_start.isoformat(),
                reservation_id=evse.reservation_id,
            )
        )
        if reply is None:
            return None
        return str(reply.transaction_id), reply.id_tag_info.get("status") == "Accepted"

    async def meter_values(self, evse: EvseRuntime, triggered: bool) -> None:
        """OCPP 1.6 §4.7: periodic samples carry the transaction id."""
        context = "Trigger" if triggered else "Sample.Periodic"
        sampled = [
            SampledValue(
                value=_number(s.value),
                context=context,
                measurand=s.measurand,
                phase=s.phase,
                location="Outlet",
                unit=s.unit,
            )
            for s in evse.samples()
        ]
        tx = int(evse.transaction_id) if evse.transaction_id is not None else None
        await self.call(
            call.MeterValues(
                connector_id=evse.evse_id,
                meter_value=[MeterValue(timestamp=self._now(), sampled_value=sampled)],
                transaction_id=tx,
            )
        )

    async def stop_transaction(self, evse: EvseRuntime, reason: StopReason) -> None:
        assert evse.transaction_id is not None
        await self.call(
            call.StopTransaction(
                meter_stop=round(evse.import_wh),
                timestamp=self._now(),
                transaction_id=int(evse.transaction_id),
                reason=str(reason),
                id_tag=evse.id_token,
            )
        )

    async def firmware_status(self, status: str, request_id: int | None) -> None:
        await self.call(call.FirmwareStatusNotification(status=status))

    async def upload_status(self, status: str, request_id: int | None) -> None:
        await self.call(call.DiagnosticsStatusNotification(status=status))

    # -- CSMS -> station ---------------------------------------------------------------------

    @on(Action.set_charging_profile)
    def on_set_charging_profile(
        self, connector_id: int, cs_charging_profiles: dict[str, Any], **_: Any
    ) -> call_result.SetChargingProfile:
        profile = profile_from_v16(connector_id, cs_charging_profiles, self.station.clock.now())
        accepted = self.station.install_profile(profile)
        return call_result.SetChargingProfile(status="Accepted" if accepted else "Rejected")

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(
        self,
        id: int | None = None,
        connector_id: int | None = None,
        charging_profile_purpose: str | None = None,
        stack_level: int | None = None,
        **_: Any,
    ) -> call_result.ClearChargingProfile:
        purpose = purpose_from(charging_profile_purpose) if charging_profile_purpose else None
        removed = self.station.clear_profiles(id, connector_id, purpose, stack_level)
        return call_result.ClearChargingProfile(status="Accepted" if removed else "Unknown")

    @on(Action.remote_start_transaction)
    def on_remote_start_transaction(
        self,
        id_tag: str,
        connector_id: int | None = None,
        charging_profile: dict[str, Any] | None = None,
        **_: Any,
    ) -> call_result.RemoteStartTransaction:
        profile = None
        if charging_profile is not None:  # OCPP 1.6 §5.11: only a TxProfile may come along
            now = self.station.clock.now()
            profile = profile_from_v16(connector_id or 0, charging_profile, now)
            if profile.purpose is not Purpose.TX:
                return call_result.RemoteStartTransaction(status="Rejected")
        started = self.station.remote_start(connector_id or None, id_tag, None, profile)
        return call_result.RemoteStartTransaction(status="Accepted" if started else "Rejected")

    @on(Action.remote_stop_transaction)
    def on_remote_stop_transaction(
        self, transaction_id: int, **_: Any
    ) -> call_result.RemoteStopTransaction:
        stopped = self.station.remote_stop(str(transaction_id))
        return call_result.RemoteStopTransaction(status="Accepted" if stopped else "Rejected")

    @on(Action.reset)
    def on_reset(self, type: str, **_: Any) -> call_result.Reset:
        self.station.reset(hard=type == "Hard")
        return call_result.Reset(status="Accepted")

    @on(Action.change_availability)
    def on_change_availability(
        self, connector_id: int, type: str, **_: Any
    ) -> call_result.ChangeAvailability:
        status = self.station.change_availability(connector_id, type == "Operative")
        return call_result.ChangeAvailability(status=status)

    @on(Action.unlock_connector)
    def on_unlock_connector(self, connector_id: int, **_: Any) -> call_result.UnlockConnector:
        outcome = self.station.unlock(connector_id, stop_running=True)
        return call_result.UnlockConnector(
            status="Unlocked" if outcome == "Unlocked" else "NotSupported"
        )

    @on(Action.trigger_message)
    def on_trigger_message(
        self, requested_message: str, connector_id: int | None = None, **_: Any
    ) -> call_result.TriggerMessage:
        accepted = self.station.trigger(requested_message, connector_id or None)
        return call_result.TriggerMessage(status="Accepted" if accepted else "NotImplemented")

    @on(Action.get_configuration)
    def on_get_configuration(
        self, key: list[str] | None = None, **_: Any
    ) -> call_result.GetConfiguration:
        config = self.station.config
        wanted = key or list(config.values)
        known = [
            KeyValue(key=k, readonly=k in config.READONLY, value=config.values[k])
            for k in wanted
            if k in config.values
        ]
        unknown = [k for k in wanted if k not in config.values]
        return call_result.GetConfiguration(configuration_key=known, unknown_key=unknown or None)

    @on(Action.change_configuration)
    def on_change_configuration(
        self, key: str, value: str, **_: Any
    ) -> call_result.ChangeConfiguration:
        return call_result.ChangeConfiguration(status=self.station.config.set(key, value))

    @on(Action.reserve_now)
    def on_reserve_now(
        self, connector_id: int, expiry_date: str, id_tag: str, reservation_id: int, **_: Any
    ) -> call_result.ReserveNow:
        status = self.station.reserve(
            reservation_id, connector_id or None, id_tag, parse_time(expiry_date)
        )
        return call_result.ReserveNow(status=status)

    @on(Action.cancel_reservation)
    def on_cancel_reservation(self, reservation_id: int, **_: Any) -> call_result.CancelReservation:
        cancelled = self.station.cancel_reservation(reservation_id)
        return call_result.CancelReservation(status="Accepted" if cancelled else "Rejected")

    @on(Action.update_firmware)
    def on_update_firmware(
        self, location: str, retrieve_date: str, **_: Any
    ) -> call_result.UpdateFirmware:
        self.station.update_firmware(location)
        return call_result.UpdateFirmware()

    @on(Action.get_diagnostics)
    def on_get_diagnostics(self, location: str, **_: Any) -> call_result.GetDiagnostics:
        return call_result.GetDiagnostics(file_name=self.station.upload_log(location))
