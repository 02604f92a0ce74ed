"""CSMS-initiated OCPP 2.0.1 messages, built from the ChargerControl vocabulary."""

from __future__ import annotations

from datetime import datetime

from ocpp.v201 import call

from evhub.control import ChargingLimit, ProfilePurpose
from evhub.ocpp.profiles import profile_id, schedule, station_wide, validity
from evhub.ocpp.timestamps import format_time

_PURPOSE = {
    ProfilePurpose.TX: "TxProfile",
    ProfilePurpose.TX_DEFAULT: "TxDefaultProfile",
    ProfilePurpose.STATION_MAX: "ChargingStationMaxProfile",
}


def _component_variable(key: str) -> dict[str, object]:
    """ "Component.Variable" (or a bare variable of the station) as 2.0.1 addresses it."""
    component, _, variable = key.rpartition(".")
    return {"component": {"name": component or "ChargingStation"}, "variable": {"name": variable}}


class V201Payloads:
    """OCPP 2.0.1 messages for the CSMS's commands; implements `CommandPayloads`."""

    def set_charging_limit(self, limit: ChargingLimit) -> call.SetChargingProfile:
        profile: dict[str, object] = {
            "id": profile_id(limit.evse_id, limit.purpose),
            "stack_level": limit.stack_level,
            "charging_profile_purpose": _PURPOSE[limit.purpose],
            "charging_profile_kind": "Absolute",
            "charging_schedule": [
                {"id": profile_id(limit.evse_id, limit.purpose)} | schedule(limit)
            ],
        } | validity(limit)
        if limit.purpose == ProfilePurpose.TX and limit.transaction_id is not None:
            profile["transaction_id"] = limit.transaction_id
        evse = 0 if station_wide(limit) else limit.evse_id
        return call.SetChargingProfile(evse_id=evse, charging_profile=profile)

    def clear_charging_limit(
        self, evse_id: int | None, purpose: ProfilePurpose
    ) -> call.ClearChargingProfile:
        criteria: dict[str, object] = {"charging_profile_purpose": _PURPOSE[purpose]}
        if evse_id is not None:
            criteria["evse_id"] = evse_id
        return call.ClearChargingProfile(charging_profile_criteria=criteria)

    def remote_start(
        self, evse_id: int, id_token: str, remote_start_id: int
    ) -> call.RequestStartTransaction:
        return call.RequestStartTransaction(
            id_token={"id_token": id_token, "type": "Central"},
            remote_start_id=remote_start_id,
            evse_id=evse_id,
        )

    def remote_stop(self, transaction_id: str) -> call.RequestStopTransaction:
        return call.RequestStopTransaction(transaction_id=transaction_id)

    def reset(self, hard: bool) -> call.Reset:
        return call.Reset(type="Immediate" if hard else "OnIdle")

    def change_availability(
        self, evse_id: int, connector_id: int | None, operative: bool
    ) -> call.ChangeAvailability:
        evse: dict[str, int] | None = None
        if evse_id:
            evse = {"id": evse_id} | ({"connector_id": connector_id} if connector_id else {})
        status = "Operative" if operative else "Inoperative"
        return call.ChangeAvailability(operational_status=status, evse=evse)

    def unlock_connector(self, evse_id: int, connector_id: int) -> call.UnlockConnector:
        return call.UnlockConnector(evse_id=evse_id, connector_id=connector_id)

    def trigger_message(self, message: str, evse_id: int | None) -> call.TriggerMessage:
        return call.TriggerMessage(
            requested_message=message, evse={"id": evse_id} if evse_id else None
        )

    def reserve_now(
        self,
        evse_id: int,
        reservation_id: int,
        id_token: str,
        expires_at: datetime,
        group_id: str | None,
    ) -> call.ReserveNow:
        return call.ReserveNow(
            id=reservation_id,
            expiry_date_time=format_time(expires_at),
            id_token={"id_token": id_token, "type": "Central"},
            evse_id=evse_id,
            group_id_token={"id_token": group_id, "type": "Central"} if group_id else None,
        )

    def cancel_reservation(self, reservation_id: int) -> call.CancelReservation:
        return call.CancelReservation(reservation_id=reservation_id)

    def get_config(self, keys: list[str]) -> call.GetVariables:
        return call.GetVariables(get_variable_data=[_component_variable(k) for k in keys])

    def set_config(self, key: str, value: str) -> call.SetVariables:
        return call.SetVariables(
            set_variable_data=[_component_variable(key) | {"attribute_value": value}]
        )

    def clear_cache(self) -> call.ClearCache:
        return call.ClearCache()

    def update_firmware(
        self, location: str, retrieve_at: datetime, request_id: int
    ) -> call.UpdateFirmware:
        return call.UpdateFirmware(
            request_id=request_id,
            firmware={"location": location, "retrieve_date_time": format_time(retrieve_at)},
        )

    def upload_logs(self, location: str, request_id: int) -> call.GetLog:
        return call.GetLog(
            log={"remote_location": location}, log_type="DiagnosticsLog", request_id=request_id
        )

    def send_local_list(
        self, version: int, entries: list[tuple[str, str]], full: bool
    ) -> call.SendLocalList:
        """SendLocalList (D01): (id token, status) pairs, the whole list or a difference."""
        return call.SendLocalList(
            version_number=version,
            update_type="Full" if full else "Differential",
            local_authorization_list=[
                {
                    "id_token": {"id_token": uid, "type": "ISO14443"},
                    "id_token_info": {"status": status},
                }
                for uid, status in entries
            ],
        )

    def get_local_list_version(self) -> call.GetLocalListVersion:
        return call.GetLocalListVersion()

    def get_base_report(self, request_id: int) -> call.GetBaseReport:
        """GetBaseReport (B07): the station answers with NotifyReport messages, stored as events."""
        return call.GetBaseReport(request_id=request_id, report_base="FullInventory")
