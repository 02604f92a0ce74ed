"""OCPP 2.0.1 payload shapes (snake_case as the ocpp library hands them) to domain values."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from evhub.accounts.service import Authorization
from evhub.charging.samples import Sample, normalise
from evhub.ocpp.timestamps import format_time, parse_time


def samples(meter_value: list[dict[str, Any]]) -> list[Sample]:
    """MeterValueType[] -> samples, applying unitOfMeasure multipliers (2.0.1 §2.50)."""
    out: list[Sample] = []
    for reading in meter_value:
        at = parse_time(reading["timestamp"])
        for sampled in reading["sampled_value"]:
            unit = sampled.get("unit_of_measure") or {}
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
    return out


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


def ev_needs(charging_needs: dict[str, Any]) -> tuple[float | None, datetime | None, float | None]:
    """(energy kWh, departure, battery kWh) from ChargingNeedsType (ISO 15118 via K15)."""
    params = (
        charging_needs.get("dc_charging_parameters")
        or charging_needs.get("ac_charging_parameters")
        or {}
    )
    energy_wh = params.get("energy_amount")
    capacity_wh = params.get("ev_energy_capacity")
    departure = charging_needs.get("departure_time")
    return (
        energy_wh / 1000 if energy_wh is not None else None,
        parse_time(departure) if departure else None,
        capacity_wh / 1000 if capacity_wh else None,
    )
