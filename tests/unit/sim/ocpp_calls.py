"""CSMS-side calls for both versions, so a test can say what it means once."""

from __future__ import annotations

from typing import Any

from ocpp.v16 import call as call16
from ocpp.v16 import datatypes as dt16
from ocpp.v201 import call as call201
from ocpp.v201 import datatypes as dt201


def sample(payload: dict[str, Any], measurand: str, phase: str | None = None) -> float:
    """A value from a MeterValues / TransactionEvent wire payload."""
    for value in payload["meterValue"][-1]["sampledValue"]:
        if value.get("measurand") == measurand and value.get("phase") == phase:
            return float(value["value"])
    raise KeyError(measurand)


def meter_payloads(calls: list[tuple[str, dict[str, Any]]], version: str) -> list[dict[str, Any]]:
    """Periodic meter reports, whatever the version carries them in."""
    if version == "1.6":
        return [p for action, p in calls if action == "MeterValues"]
    return [
        p
        for action, p in calls
        if action == "TransactionEvent" and p["triggerReason"] == "MeterValuePeriodic"
    ]


def set_profile(
    version: str,
    evse_id: int,
    purpose: str,
    limit: float,
    *,
    unit: str = "W",
    profile_id: int = 1,
    stack_level: int = 0,
    transaction_id: str | None = None,
) -> Any:
    """SetChargingProfile with one period from now on; purpose 'StationMax' picks the version's."""
    if version == "1.6":
        return call16.SetChargingProfile(
            connector_id=evse_id,
            cs_charging_profiles=dt16.ChargingProfile(
                charging_profile_id=profile_id,
                stack_level=stack_level,
                charging_profile_purpose=(
                    "ChargePointMaxProfile" if purpose == "StationMax" else purpose
                ),
                charging_profile_kind="Relative",
                charging_schedule=dt16.ChargingSchedule(
                    charging_rate_unit=unit,
                    charging_schedule_period=[
                        dt16.ChargingSchedulePeriod(start_period=0, limit=limit)
                    ],
                ),
                transaction_id=int(transaction_id) if transaction_id else None,
            ),
        )
    return call201.SetChargingProfile(
        evse_id=evse_id,
        charging_profile=dt201.ChargingProfileType(
            id=profile_id,
            stack_level=stack_level,
            charging_profile_purpose=(
                "ChargingStationMaxProfile" if purpose == "StationMax" else purpose
            ),
            charging_profile_kind="Relative",
            charging_schedule=[
                dt201.ChargingScheduleType(
                    id=1,
                    charging_rate_unit=unit,
                    charging_schedule_period=[
                        dt201.ChargingSchedulePeriodType(start_period=0, limit=limit)
                    ],
                )
            ],
            transaction_id=transaction_id,
        ),
    )


def clear_profile(version: str, profile_id: int) -> Any:
    if version == "1.6":
        return call16.ClearChargingProfile(id=profile_id)
    return call201.ClearChargingProfile(charging_profile_id=profile_id)


def remote_start(version: str, evse_id: int, token: str, remote_start_id: int = 5) -> Any:
    if version == "1.6":
        return call16.RemoteStartTransaction(id_tag=token, connector_id=evse_id)
    return call201.RequestStartTransaction(
        id_token=dt201.IdTokenType(id_token=token, type="Central"),
        remote_start_id=remote_start_id,
        evse_id=evse_id,
    )


def remote_stop(version: str, transaction_id: str) -> Any:
    if version == "1.6":
        return call16.RemoteStopTransaction(transaction_id=int(transaction_id))
    return call201.RequestStopTransaction(transaction_id=transaction_id)


def reserve(version: str, reservation_id: int, evse_id: int, token: str, expiry: str) -> Any:
    if version == "1.6":
        return call16.ReserveNow(
            connector_id=evse_id, expiry_date=expiry, id_tag=token, reservation_id=reservation_id
        )
    return call201.ReserveNow(
        id=reservation_id,
        expiry_date_time=expiry,
        id_token=dt201.IdTokenType(id_token=token, type="ISO14443"),
        evse_id=evse_id,
    )


def cancel_reservation(version: str, reservation_id: int) -> Any:
    if version == "1.6":
        return call16.CancelReservation(reservation_id=reservation_id)
    return call201.CancelReservation(reservation_id=reservation_id)


def reset(version: str) -> Any:
    if version == "1.6":
        return call16.Reset(type="Soft")
    return call201.Reset(type="Immediate")


def change_availability(version: str, evse_id: int, operative: bool) -> Any:
    if version == "1.6":
        kind = "Operative" if operative else "Inoperative"
        return call16.ChangeAvailability(connector_id=evse_id, type=kind)
    return call201.ChangeAvailability(
        operational_status="Operative" if operative else "Inoperative",
        evse=dt201.EVSEType(id=evse_id),
    )


def unlock(version: str, evse_id: int) -> Any:
    if version == "1.6":
        return call16.UnlockConnector(connector_id=evse_id)
    return call201.UnlockConnector(evse_id=evse_id, connector_id=1)


def trigger(version: str, message: str, evse_id: int | None = None) -> Any:
    if version == "1.6":
        return call16.TriggerMessage(requested_message=message, connector_id=evse_id)
    evse = dt201.EVSEType(id=evse_id) if evse_id else None
    return call201.TriggerMessage(requested_message=message, evse=evse)


def update_firmware(version: str, location: str, request_id: int = 11) -> Any:
    when = "2025-03-03T08:00:00+00:00"
    if version == "1.6":
        return call16.UpdateFirmware(location=location, retrieve_date=when)
    return call201.UpdateFirmware(
        request_id=request_id,
        firmware=dt201.FirmwareType(location=location, retrieve_date_time=when),
    )


def get_log(version: str, location: str, request_id: int = 3) -> Any:
    if version == "1.6":
        return call16.GetDiagnostics(location=location)
    return call201.GetLog(
        log=dt201.LogParametersType(remote_location=location),
        log_type="DiagnosticsLog",
        request_id=request_id,
    )
