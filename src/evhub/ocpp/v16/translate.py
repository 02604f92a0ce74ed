"""OCPP 1.6 payload shapes (snake_case as the ocpp library hands them) to domain values."""

from __future__ import annotations

from typing import Any

from ocpp.exceptions import PropertyConstraintViolationError, TypeConstraintViolationError

from evhub.accounts.service import Authorization
from evhub.charging.samples import ImplausibleSample, Sample, SignedReading, normalise
from evhub.charging.service import Step, TransactionStart, TransactionStop
from evhub.ocpp.timestamps import format_time, parse_time

PROTOCOL = "1.6"


def samples(meter_value: list[dict[str, Any]]) -> tuple[Sample, ...]:
    """MeterValue[] -> samples; 1.6 sends values as strings (§7.43). A value that is not a
    decimal number is a TypeConstraintViolation; "NaN", "Infinity" or a value no meter reads
    is a PropertyConstraintViolation (OCPP-J 1.6 §4.2.3: a field with an invalid value)."""
    out: list[Sample] = []
    for reading in meter_value:
        at = parse_time(reading["timestamp"])
        for sampled in reading["sampled_value"]:
            if sampled.get("format") == "SignedData":
                continue
            try:
                value = float(sampled["value"])
            except ValueError as exc:
                raise TypeConstraintViolationError(
                    details={"cause": f"sampled value {sampled['value']!r} is not a number"}
                ) from exc
            try:
                out.append(
                    normalise(
                        at,
                        value,
                        sampled.get("measurand"),
                        sampled.get("unit"),
                        sampled.get("phase"),
                        sampled.get("context"),
                    )
                )
            except ImplausibleSample as exc:
                raise PropertyConstraintViolationError(details={"cause": exc.message}) from exc
    return tuple(out)


def signed_readings(meter_value: list[dict[str, Any]]) -> tuple[SignedReading, ...]:
    """The values of format SignedData (1.6 §7.45 ValueFormat), kept as sent; their public
    key travels apart (the station's configuration), so none is stored with them here."""
    return tuple(
        SignedReading(
            timestamp=parse_time(reading["timestamp"]),
            context=sampled.get("context") or "Sample.Periodic",
            data=sampled["value"],
        )
        for reading in meter_value
        for sampled in reading["sampled_value"]
        if sampled.get("format") == "SignedData"
    )


def transaction_start(
    station_id: str,
    connector_id: int,
    id_tag: str,
    meter_start: int,
    timestamp: str,
    reservation_id: int | None,
) -> TransactionStart:
    """StartTransaction.req (§6.45): the connector is the EVSE; the CSMS numbers it."""
    return TransactionStart(
        station_id=station_id,
        evse_id=connector_id,
        connector_id=1,
        started_at=parse_time(timestamp),
        meter_start_wh=meter_start,
        id_token=id_tag,
        protocol=PROTOCOL,
        reservation_id=reservation_id,
    )


def transaction_stop(
    station_id: str,
    transaction_id: int,
    meter_stop: int,
    timestamp: str,
    reason: str | None,
    id_tag: str | None,
    transaction_data: list[dict[str, Any]],
) -> TransactionStop:
    """StopTransaction.req (§6.49); the reason defaults to Local (§7.29)."""
    at = parse_time(timestamp)
    return TransactionStop(
        station_id=station_id,
        transaction_id=str(transaction_id),
        step=Step(1, "Ended", reason or "Local", at),
        meter_stop_wh=meter_stop,
        reason=reason or "Local",
        id_token=id_tag,
        samples=samples(transaction_data),
        signed=signed_readings(transaction_data),
    )


def id_tag_info(auth: Authorization) -> dict[str, Any]:
    """IdTagInfo (§7.37). 1.6 has no "not at this time": a token refused here and now (outside
    its group's access window, or beyond its quota) is Invalid, "not allowed for charging";
    Blocked would say the identifier itself is blocked, which it is not."""
    status = (
        auth.status if auth.status in ("Accepted", "Blocked", "Expired", "Invalid") else "Invalid"
    )
    info: dict[str, Any] = {"status": status}
    if auth.group_id:
        info["parent_id_tag"] = auth.group_id[:20]
    if auth.expires_at is not None and auth.accepted:
        info["expiry_date"] = format_time(auth.expires_at)
    return info
