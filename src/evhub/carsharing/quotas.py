"""Quotas per driver and period: how many bookings a driver may start in a day, week or month
of the hub's local calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

PERIODS = ("day", "week", "month")


def period_bounds(at: datetime, period: str, timezone: str) -> tuple[datetime, datetime]:
    """The local day, ISO week (from Monday) or month that holds `at`, as UTC instants
    (aware of daylight saving time changes)."""
    if period not in PERIODS:
        raise ValueError(f"unknown quota period {period!r}")
    zone = ZoneInfo(timezone)
    local = at.astimezone(zone)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "week":
        start -= timedelta(days=start.weekday())
    elif period == "month":
        start = start.replace(day=1)
    if period == "day":
        end = start + timedelta(days=1)
    elif period == "week":
        end = start + timedelta(days=7)
    else:
        end = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    # Rebuild the wall-clock midnights in the zone, so that a DST change in between is right.
    start = start.replace(tzinfo=None).replace(tzinfo=zone)
    end = end.replace(tzinfo=None).replace(tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)
