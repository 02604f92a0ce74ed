"""OCPP 2.0.1 payload shapes (snake_case as the ocpp library hands them) to domain values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ocpp.exceptions import PropertyConstraintViolationError

from evhub.accounts.service import Authorization
from evhub.charging.samples import ImplausibleSample, Sample, SignedReading, normalise
from evhub.charging.service import Step, TransactionStart, TransactionStop, TransactionUpdate
from evhub.ocpp.timestamps import format_time, parse_time
from evhub.planning.vehicle_needs import VehicleNeed

PROTOCOL = "2.0.1"


def samples(meter_value: list[dict[str, Any]]) -> tuple[Sample, ...]:
    """MeterValueType[] -> samples, applying unitOfMeasure multipliers (2.0.1 §2.50). A value
    no meter reads (infinite, out of range) is a PropertyConstraintViolation (OCPP-J 2.0.1
    §4.3: a field with an invalid value); a bare NaN is not JSON and never gets here."""
    out: list[Sample] = []
    for reading in meter_value:
        at = parse_time(reading["timestamp"])
        for sampled in reading["sampled_value"]:
            unit = sampled.get("unit_of_measure") or {}
            try:
                out.append(
                    normalise(
                        at,
                        float(sampled["value"]),
                        sampled.get("measurand"),
                        unit.get("unit"),
                        sampled.get("phase"),
                        sampled.get("context"),
                        int(unit.get("multiplier", 0)),
                    )
                )
            except ImplausibleSample as exc:
                raise PropertyConstraintViolationError(details={"cause": exc.message}) from exc
    return tuple(out)


def signed_readings(meter_value: list[dict[str, Any]]) -> tuple[SignedReading, ...]:
    """The signed meter values among MeterValueType[] (2.0.1 SignedMeterValueType §2.45),
    kept as sent: signedMeterData, signingMethod, encodingMethod, publicKey."""
    out: list[SignedReading] = []
    for reading in meter_value:
        at = parse_time(reading["timestamp"])
        for sampled in reading["sampled_value"]:
            signed = sampled.get("signed_meter_value")
            if signed:
                out.append(
                    SignedReading(
                        timestamp=at,
                        context=sampled.get("context") or "Sample.Periodic",
                        data=signed["signed_meter_data"],
                        signing_method=signed.get("signing_method", ""),
                        encoding_method=signed.get("encoding_method", ""),
                        public_key=signed.get("public_key", ""),
                    )
                )
    return tuple(out)


@dataclass(frozen=True)
class TransactionEventValues:
    """A TransactionEventRequest (E01-E15) as neutral values: `start` opens the transaction
    (its own Started, or, for a later event whose start never arrived, what is known of it);
    then `update` or `stop`."""

    start: TransactionStart
    update: TransactionUpdate | None = None
    stop: TransactionStop | None = None


def transaction_event(
    station_id: str,
    event_type: str,
    timestamp: str,
    trigger_reason: str,
    seq_no: int,
    transaction_info: dict[str, Any],
    kw: dict[str, Any],
) -> TransactionEventValues:
    evse = kw.get("evse") or {}
    token = (kw.get("id_token") or {}).get("id_token")
    at = parse_time(timestamp)
    data = samples(kw.get("meter_value") or [])
    signed = signed_readings(kw.get("meter_value") or [])
    transaction_id = transaction_info["transaction_id"]
    started = event_type == "Started"
    start = TransactionStart(
        station_id=station_id,
        evse_id=evse.get("id") or 0,
        connector_id=evse.get("connector_id") or 1,
        started_at=at,
        meter_start_wh=None if started else 0,
        id_token=token if started else None,
        protocol=PROTOCOL,
        station_transaction_id=transaction_id,
        reservation_id=kw.get("reservation_id") if started else None,
        remote_start_id=transaction_info.get("remote_start_id") if started else None,
        charging_state=transaction_info.get("charging_state") if started else None,
        samples=data if started else (),
        signed=signed if started else (),
        seq_no=seq_no,
        trigger=trigger_reason,
    )
    step = Step(seq_no, event_type, trigger_reason, at)
    if started:
        return TransactionEventValues(start)
    if event_type == "Ended":
        stop = TransactionStop(
            station_id, transaction_id, step, meter_stop_wh=None,
            reason=transaction_info.get("stopped_reason") or "Local", id_token=token,
            charging_state=transaction_info.get("charging_state"), samples=data, signed=signed,
        )  # fmt: skip
        return TransactionEventValues(start, stop=stop)
    update = TransactionUpdate(
        station_id, transaction_id, step, evse_id=evse.get("id"),
        connector_id=evse.get("connector_id"), id_token=token,
        reservation_id=kw.get("reservation_id"),
        remote_start_id=transaction_info.get("remote_start_id"),
        charging_state=transaction_info.get("charging_state"), samples=data, signed=signed,
    )  # fmt: skip
    return TransactionEventValues(start, update=update)


def id_token_info(auth: Authorization) -> dict[str, Any]:
    """IdTokenInfoType; the reason travels as a personal message for the station's screen."""
    info: dict[str, Any] = {"status": auth.status}
    if auth.group_id:
        info["group_id_token"] = {"id_token": auth.group_id, "type": "Central"}
    if auth.expires_at is not None and auth.accepted:
        info["cache_expiry_date_time"] = format_time(auth.expires_at)
    if not auth.accepted:
        info["personal_message"] = {"format": "UTF8", "content": auth.reason[:512]}
    return info


def ev_needs(charging_needs: dict[str, Any]) -> VehicleNeed:
    """Energy, departure and battery size from ChargingNeedsType (ISO 15118 via K15)."""
    params = (
        charging_needs.get("dc_charging_parameters")
        or charging_needs.get("ac_charging_parameters")
        or {}
    )
    energy_wh = params.get("energy_amount")
    capacity_wh = params.get("ev_energy_capacity")
    departure = charging_needs.get("departure_time")
    return VehicleNeed(
        energy_wh / 1000 if energy_wh is not None else None,
        parse_time(departure) if departure else None,
        capacity_wh / 1000 if capacity_wh else None,
    )
