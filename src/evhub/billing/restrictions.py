"""When a Tariff Element's restrictions hold (OCPI 2.2.1 §11.4.6), and the instants at which
their truth can change within a stretch of time.

Restrictions are read at one instant of a slice of the session whose conditions do not change
inside it: the pricing engine cuts charging periods at every instant `split_instants` returns
(local time-of-day edges, local midnights, daylight-saving shifts), so a value read anywhere
inside a slice holds for all of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from evhub.billing.tariff import DayOfWeek, TariffElement, TariffRestrictions

_WEEKDAYS = list(DayOfWeek)  # Monday first, as datetime.weekday() counts


@dataclass(frozen=True)
class Conditions:
    """What restrictions are read against, at one instant of the session.

    `current_a` and `power_kw` are the (lowest, highest) values of the slice, None when the
    charging period says nothing about them (then a current or power restriction does not hold:
    it cannot be shown to).
    """

    at: datetime
    elapsed_s: Decimal
    energy_kwh: Decimal
    current_a: tuple[Decimal, Decimal] | None
    power_kw: tuple[Decimal, Decimal] | None


def matches(restrictions: TariffRestrictions | None, c: Conditions, tz: ZoneInfo) -> bool:
    """OCPI 2.2.1 §11.4.6: every property that is set must hold (the reservation property is
    the caller's: it picks which elements apply to reservation time)."""
    if restrictions is None:
        return True
    r = restrictions
    local = c.at.astimezone(tz)
    return (
        _time_of_day(r, local.time())
        and (r.start_date is None or local.date() >= date.fromisoformat(r.start_date))
        and (r.end_date is None or local.date() < date.fromisoformat(r.end_date))
        and (not r.day_of_week or _WEEKDAYS[local.weekday()] in r.day_of_week)
        and (r.min_kwh is None or c.energy_kwh >= r.min_kwh)
        and (r.max_kwh is None or c.energy_kwh < r.max_kwh)
        and (r.min_duration is None or c.elapsed_s >= r.min_duration)
        and (r.max_duration is None or c.elapsed_s < r.max_duration)
        and _range(c.current_a, r.min_current, r.max_current)
        and _range(c.power_kw, r.min_power, r.max_power)
    )


def _time_of_day(r: TariffRestrictions, now: time) -> bool:
    """start_time inclusive, end_time exclusive; end before start wraps past midnight, and an
    end of 00:00 means the end of the day (§11.4.6). Equal times cover the whole day."""
    start = time.fromisoformat(r.start_time) if r.start_time else None
    end = time.fromisoformat(r.end_time) if r.end_time else None
    if end == time(0) and start is None:
        end = None
    if start is not None and end is not None:
        if start < end:
            return start <= now < end
        if end < start:
            return now >= start or now < end
        return True
    if start is not None:
        return now >= start
    if end is not None:
        return now < end
    return True


def _range(
    values: tuple[Decimal, Decimal] | None, low: Decimal | None, high: Decimal | None
) -> bool:
    """min_* holds while the lowest value is at or above it, max_* while the highest is below
    it: the element is active only when the whole slice is in range (§11.4.6)."""
    if low is None and high is None:
        return True
    if values is None:
        return False
    lowest, highest = values
    return (low is None or lowest >= low) and (high is None or highest < high)


def split_instants(
    elements: list[TariffElement], start: datetime, end: datetime, tz: ZoneInfo
) -> list[datetime]:
    """Every instant strictly between `start` and `end` at which a time-of-day, date or
    day-of-week restriction of `elements` can change its truth: the local wall times the
    elements name and local midnights, on each local day of the stretch, daylight-saving
    transitions included."""
    if end <= start:
        return []
    walls = {time(0)}
    for element in elements:
        r = element.restrictions
        if r is not None:
            walls.update(time.fromisoformat(t) for t in (r.start_time, r.end_time) if t)
    first = start.astimezone(tz).date() - timedelta(days=1)
    days = (end.astimezone(tz).date() - first).days + 2
    found: set[datetime] = set()
    for n in range(days):
        day = first + timedelta(days=n)
        for wall in walls:
            found.update(_instants_of(datetime.combine(day, wall), tz))
    return sorted(t for t in found if start < t < end)


def _instants_of(wall: datetime, tz: ZoneInfo) -> list[datetime]:
    """The UTC instants at which local time reaches `wall`: two when it occurs twice (autumn),
    the transition itself when the clock skips it (spring)."""
    early = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    late = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    exists = early.astimezone(tz).replace(tzinfo=None) == wall
    if exists:
        return [early, late]
    return [_transition(min(early, late), max(early, late), tz)]


def _transition(low: datetime, high: datetime, tz: ZoneInfo) -> datetime:
    """The first second at which the UTC offset differs from the one at `low`."""
    offset = low.astimezone(tz).utcoffset()
    lo, hi = int(low.timestamp()), int(high.timestamp())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, UTC).astimezone(tz).utcoffset() == offset:
            lo = mid
        else:
            hi = mid
    return datetime.fromtimestamp(hi, UTC)
