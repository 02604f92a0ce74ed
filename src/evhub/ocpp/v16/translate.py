"""OCPP 1.6 payload shapes (snake_case as the ocpp library hands them) to domain values."""

from __future__ import annotations

from typing import Any

from ocpp.exceptions import TypeConstraintViolationError

from evhub.accounts.service import Authorization
from evhub.charging.samples import Sample, normalise
from evhub.ocpp.timestamps import format_time, parse_time


def samples(meter_value: list[dict[str, Any]]) -> list[Sample]:
    """MeterValue[] -> samples; 1.6 sends values as strings (§7.43)."""
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
    return out


def id_tag_info(auth: Authorization) -> dict[str, Any]:
    """IdTagInfo (§7.37); 1.6 has no "not at this time", so refusals are Invalid or Blocked."""
    status = (
        auth.status if auth.status in ("Accepted", "Blocked", "Expired", "Invalid") else "Invalid"
    )
    info: dict[str, Any] = {"status": status}
    if auth.group_id:
        info["parent_id_tag"] = auth.group_id[:20]
    if auth.expires_at is not None and auth.accepted:
        info["expiry_date"] = format_time(auth.expires_at)
    return info
