"""CSMS-initiated OCPP 1.6J messages, built from the ChargerControl vocabulary."""

from __future__ import annotations

from datetime import datetime

from ocpp.v16 import call

from evhub.control import ChargingLimit, ProfilePurpose
from evhub.ocpp.profiles import profile_id, schedule, station_wide, validity
from evhub.ocpp.timestamps import format_time


class V16Payloads:
    """OCPP 1.6J messages for the CSMS's commands; implements `CommandPayloads`."""

    def set_charging_limit(self, limit: ChargingLimit) -> call.SetChargingProfile:
        """SetChargingProfile (§5.16, §3.13); TxProfile needs the running transaction's id."""
        profile: dict[str, object] = {
            "charging_profile_id": profile_id(limit.evse_id, limit.purpose),
            "stack_level": limit.stack_level,
            "charging_profile_purpose": str(limit.purpose),
            "charging_profile_kind": "Absolute",
            "charging_schedule": schedule(limit),
        } | validity(limit)
        if limit.purpose == ProfilePurpose.TX and limit.transaction_id is not None:
            profile["transaction_id"] = int(limit.transaction_id)
        connector = 0 if station_wide(limit) else limit.evse_id
        return call.SetChargingProfile(connector_id=connector, cs_charging_profiles=profile)

    def clear_charging_limit(
        self, evse_id: int | None, purpose: ProfilePurpose
    ) -> call.ClearChargingProfile:
        return call.ClearChargingProfile(
            connector_id=evse_id, charging_profile_purpose=str(purpose)
        )

    def remote_start(
        self, evse_id: int, id_token: str, remote_start_id: int
    ) -> call.RemoteStartTransaction:
        return call.RemoteStartTransaction(id_tag=id_token, connector_id=evse_id)

    def remote_stop(self, transaction_id: str) -> call.RemoteStopTransaction:
        return call.RemoteStopTransaction(transaction_id=int(transaction_id))

    def reset(self, hard: bool) -> call.Reset:
        return call.Reset(type="Hard" if hard else "Soft")

    def change_availability(
        self, evse_id: int, connector_id: int | None, operative: bool
    ) -> call.ChangeAvailability:
        return call.ChangeAvailability(
            connector_id=evse_id, type="Operative" if operative else "Inoperative"
        )

    def unlock_connector(self, evse_id: int, connector_id: int) -> call.UnlockConnector:
        return call.UnlockConnector(connector_id=evse_id)

    def trigger_message(self, message: str, evse_id: int | None) -> call.TriggerMessage:
        return call.TriggerMessage(requested_message=message, connector_id=evse_id)

    def reserve_now(
        self,
        evse_id: int,
        reservation_id: int,
        id_token: str,
        expires_at: datetime,
        group_id: str | None,
    ) -> call.ReserveNow:
        return call.ReserveNow(
            connector_id=evse_id,
            expiry_date=format_time(expires_at),
            id_tag=id_token,
            reservation_id=reservation_id,
            parent_id_tag=group_id,
        )

    def cancel_reservation(self, reservation_id: int) -> call.CancelReservation:
        return call.CancelReservation(reservation_id=reservation_id)

    def get_config(self, keys: list[str]) -> call.GetConfiguration:
        return call.GetConfiguration(key=keys or None)

    def set_config(self, key: str, value: str) -> call.ChangeConfiguration:
        return call.ChangeConfiguration(key=key, value=value)

    def clear_cache(self) -> call.ClearCache:
        return call.ClearCache()

    def update_firmware(
        self, location: str, retrieve_at: datetime, request_id: int
    ) -> call.UpdateFirmware:
        return call.UpdateFirmware(location=location, retrieve_date=format_time(retrieve_at))

    def upload_logs(self, location: str, request_id: int) -> call.GetDiagnostics:
        return call.GetDiagnostics(location=location)

    def send_local_list(
        self, version: int, entries: list[tuple[str, str]], full: bool
    ) -> call.SendLocalList:
        """SendLocalList (§5.15): (id tag, status) pairs, the whole list or a difference."""
        return call.SendLocalList(
            list_version=version,
            update_type="Full" if full else "Differential",
            local_authorization_list=[
                {"id_tag": uid, "id_tag_info": {"status": status}} for uid, status in entries
            ],
        )

    def get_local_list_version(self) -> call.GetLocalListVersion:
        return call.GetLocalListVersion()

    def get_base_report(self, request_id: int) -> call.GetConfiguration:
        """1.6 has no device model report: the closest is the whole configuration."""
        return call.GetConfiguration()
