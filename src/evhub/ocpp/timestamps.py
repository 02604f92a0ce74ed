"""OCPP date-time fields (RFC 3339) to aware UTC datetimes, and back."""

from __future__ import annotations

from datetime import UTC, datetime

from ocpp.exceptions import FormatViolationError


def parse_time(value: str) -> datetime:
    """An aware UTC datetime; a value without offset is taken as UTC (OCPP requires UTC)."""
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise FormatViolationError(
            details={"cause": f"not an RFC 3339 date-time: {value!r}"}
        ) from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def format_time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
