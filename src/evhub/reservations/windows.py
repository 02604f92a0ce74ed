"""Weekly access windows in a site's local time: pure rules, no database.

A window opens on some days of the week (0 = Monday ... 6 = Sunday) at `start_minute` of local
time and closes at `end_minute` (1440 = midnight at the end of the day). An end at or before the
start closes on the next day: a night window 19:00-08:00 belongs to the day it opens. A holiday
is a local date that counts as another day of the week (a public holiday treated like a Sunday);
for a night window, the day it opened decides.

Local wall-clock time comes from zoneinfo, so a window keeps its local hours across daylight
saving changes: in Europe/Paris, 19:00-08:00 lasts 13 hours on most nights, 12 hours on the
night into the last Sunday of March and 14 hours on the night into the last Sunday of October.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 1440
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class WeeklyWindow:
    days: frozenset[int]
    start_minute: int
    end_minute: int
    quota: int | None = None

    def __post_init__(self) -> None:
        if not self.days or not self.days <= set(range(7)):
            raise ValueError("days must be a non-empty set of 0 (Monday) .. 6 (Sunday)")
        if not 0 <= self.start_minute < MINUTES_PER_DAY:
            raise ValueError("start_minute must be within 0..1439")
        if not 0 < self.end_minute <= MINUTES_PER_DAY:
            raise ValueError("end_minute must be within 1..1440")
        if self.quota is not None and self.quota < 0:
            raise ValueError("quota must not be negative")

    @property
    def crosses_midnight(self) -> bool:
        return self.end_minute <= self.start_minute

    def describe(self) -> str:
        days = ",".join(DAY_NAMES[d] for d in sorted(self.days))
        return f"{days} {format_hhmm(self.start_minute)}-{format_hhmm(self.end_minute)}"


@dataclass(frozen=True)
class SiteCalendar:
    """A site's time zone and its holidays (local date -> the weekday it counts as)."""

    tz: ZoneInfo
    holidays: Mapping[date, int] = field(default_factory=dict)

    def day_kind(self, day: date) -> int:
        return self.holidays.get(day, day.weekday())


@dataclass(frozen=True)
class OpenInterval:
    start: datetime
    end: datetime
    window: WeeklyWindow


def open_windows_at(
    windows: Iterable[WeeklyWindow], calendar: SiteCalendar, at: datetime
) -> list[WeeklyWindow]:
    """The windows open at instant `at` (a window includes its start, excludes its end)."""
    local = at.astimezone(calendar.tz)
    minute = local.hour * 60 + local.minute
    today = calendar.day_kind(local.date())
    yesterday = calendar.day_kind(local.date() - timedelta(days=1))
    found: list[WeeklyWindow] = []
    for w in windows:
        if w.crosses_midnight:
            is_open = (today in w.days and minute >= w.start_minute) or (
                yesterday in w.days and minute < w.end_minute
            )
        else:
            is_open = today in w.days and w.start_minute <= minute < w.end_minute
        if is_open:
            found.append(w)
    return found


def open_intervals(
    windows: Sequence[WeeklyWindow], calendar: SiteCalendar, start: datetime, end: datetime
) -> list[OpenInterval]:
    """The openings (in UTC) of each window that overlap [start, end), sorted by start."""
    first = start.astimezone(calendar.tz).date() - timedelta(days=1)
    last = end.astimezone(calendar.tz).date()
    found: list[OpenInterval] = []
    day = first
    while day <= last:
        kind = calendar.day_kind(day)
        for w in windows:
            if kind not in w.days:
                continue
            opens = _local_instant(calendar.tz, day, w.start_minute)
            closes_on = day + timedelta(days=1) if w.crosses_midnight else day
            closes = _local_instant(calendar.tz, closes_on, w.end_minute)
            if opens < end and start < closes:
                found.append(OpenInterval(opens, closes, w))
        day += timedelta(days=1)
    return sorted(found, key=lambda i: (i.start, i.end))


def covers(
    windows: Sequence[WeeklyWindow], calendar: SiteCalendar, start: datetime, end: datetime
) -> bool:
    """Whether [start, end) lies entirely within the union of the windows' openings."""
    reached = start
    for interval in open_intervals(windows, calendar, start, end):
        if interval.start > reached:
            return False
        reached = max(reached, interval.end)
        if reached >= end:
            return True
    return reached >= end


def slot_quota(
    windows: Sequence[WeeklyWindow], calendar: SiteCalendar, start: datetime, end: datetime
) -> int | None:
    """The tightest quota among the windows open during [start, end); None when unlimited."""
    quotas = [
        i.window.quota
        for i in open_intervals(windows, calendar, start, end)
        if i.window.quota is not None
    ]
    return min(quotas) if quotas else None


def next_opening(
    windows: Sequence[WeeklyWindow], calendar: SiteCalendar, after: datetime
) -> datetime | None:
    """When the next window opens after `after` (within two weeks), or None."""
    horizon = after + timedelta(days=15)
    for interval in open_intervals(windows, calendar, after, horizon):
        if interval.start > after:
            return interval.start
    return None


def _local_instant(tz: ZoneInfo, day: date, minute: int) -> datetime:
    """The UTC instant of local wall time `minute` on `day`; a time skipped by a DST change
    (02:30 on a spring-forward night) resolves to the instant one hour later on the clock."""
    wall = datetime(day.year, day.month, day.day, tzinfo=tz) + timedelta(minutes=minute)
    return wall.astimezone(UTC)


def parse_hhmm(text: str) -> int:
    """ "19:00" -> 1140; "24:00" -> 1440."""
    hours, _, minutes = text.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise ValueError(f"{text!r} is not HH:MM")
    value = int(hours) * 60 + int(minutes)
    if int(minutes) >= 60 or value > MINUTES_PER_DAY:
        raise ValueError(f"{text!r} is not a time of day")
    return value


def format_hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def local_day(tz: ZoneInfo, day: date) -> tuple[datetime, datetime]:
    """A local calendar day as UTC instants [start, end): 23 or 25 hours on DST days."""
    return _local_instant(tz, day, 0), _local_instant(tz, day + timedelta(days=1), 0)
