"""Access windows in local time: night windows, weekends, holidays, quotas, DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from evhub.reservations.windows import (
    SiteCalendar,
    WeeklyWindow,
    covers,
    local_day,
    next_opening,
    open_intervals,
    open_windows_at,
    parse_hhmm,
    slot_quota,
)

PARIS = ZoneInfo("Europe/Paris")
WEEKDAYS = frozenset(range(5))
WEEKEND = frozenset({5, 6})
EVERY_DAY = frozenset(range(7))
# Residents: 12 points from 19:00 to 08:00 on weeknights, all day at weekends.
NIGHTS = WeeklyWindow(WEEKDAYS, 19 * 60, 8 * 60, quota=12)
WEEKENDS = WeeklyWindow(WEEKEND, 0, 1440, quota=12)
RESIDENTS = [NIGHTS, WEEKENDS]
CAL = SiteCalendar(PARIS)


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)  # type: ignore[misc]


def is_open(windows: list[WeeklyWindow], at: datetime, cal: SiteCalendar = CAL) -> bool:
    return bool(open_windows_at(windows, cal, at))


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ((2026, 11, 25, 18, 59), False),  # Wednesday before the night window
        ((2026, 11, 25, 19, 0), True),  # opens at 19:00 sharp
        ((2026, 11, 25, 23, 59), True),
        ((2026, 11, 26, 0, 0), True),  # across midnight, still Wednesday's window
        ((2026, 11, 26, 7, 59), True),
        ((2026, 11, 26, 8, 0), False),  # closes at 08:00 sharp
        ((2026, 11, 26, 12, 0), False),
        ((2026, 11, 28, 12, 0), True),  # Saturday noon: weekend window
    ],
)
def test_night_window_crosses_midnight(local: tuple[int, ...], expected: bool) -> None:
    assert is_open(RESIDENTS, paris(*local)) is expected


def test_a_night_window_belongs_to_the_day_it_opens() -> None:
    # Monday 07:30 is not within Sunday's all-day window, nor within any Sunday night window.
    assert not is_open(RESIDENTS, paris(2026, 11, 30, 7, 30))
    sunday_night = WeeklyWindow(frozenset({6}), 19 * 60, 8 * 60)
    assert is_open([*RESIDENTS, sunday_night], paris(2026, 11, 30, 7, 30))


def test_friday_night_window_runs_into_saturday() -> None:
    assert is_open([NIGHTS], paris(2026, 11, 28, 7, 0))  # Saturday 07:00, Friday's night
    assert not is_open([NIGHTS], paris(2026, 11, 28, 9, 0))


def test_spring_forward_night_is_twelve_hours_long() -> None:
    # Europe/Paris: Sunday 29 March 2026, 02:00 CET -> 03:00 CEST.
    nightly = WeeklyWindow(EVERY_DAY, 19 * 60, 8 * 60)
    [night] = [
        i
        for i in open_intervals([nightly], CAL, paris(2026, 3, 28, 12), paris(2026, 3, 29, 12))
        if i.start.date() == date(2026, 3, 28)
    ]
    assert night.start == datetime(2026, 3, 28, 18, 0, tzinfo=UTC)  # 19:00 CET
    assert night.end == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)  # 08:00 CEST
    assert night.end - night.start == timedelta(hours=12)
    # 07:30 CEST is 05:30 UTC: open. A fixed +01:00 offset would call 06:30 UTC 07:30 too.
    assert is_open([nightly], datetime(2026, 3, 29, 5, 30, tzinfo=UTC))
    assert not is_open([nightly], datetime(2026, 3, 29, 6, 30, tzinfo=UTC))  # 08:30 CEST


def test_fall_back_night_is_fourteen_hours_long() -> None:
    # Europe/Paris: Sunday 25 October 2026, 03:00 CEST -> 02:00 CET.
    nightly = WeeklyWindow(EVERY_DAY, 19 * 60, 8 * 60)
    intervals = open_intervals([nightly], CAL, paris(2026, 10, 24, 20), paris(2026, 10, 25, 1))
    assert [i.end - i.start for i in intervals] == [timedelta(hours=14)]
    assert intervals[0].end == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)  # 08:00 CET
    assert is_open([nightly], datetime(2026, 10, 25, 6, 30, tzinfo=UTC))  # 07:30 CET
    assert not is_open([nightly], datetime(2026, 10, 25, 7, 0, tzinfo=UTC))


def test_day_window_keeps_its_local_hours_across_the_change() -> None:
    visitors = WeeklyWindow(EVERY_DAY, 8 * 60, 19 * 60)
    # 08:00 local is 07:00 UTC in winter and 06:00 UTC in summer.
    assert is_open([visitors], datetime(2026, 3, 28, 7, 0, tzinfo=UTC))
    assert not is_open([visitors], datetime(2026, 3, 29, 5, 59, tzinfo=UTC))
    assert is_open([visitors], datetime(2026, 3, 29, 6, 0, tzinfo=UTC))


def test_local_day_is_23_or_25_hours_on_dst_days() -> None:
    start, end = local_day(PARIS, date(2026, 3, 29))
    assert end - start == timedelta(hours=23)
    start, end = local_day(PARIS, date(2026, 10, 25))
    assert end - start == timedelta(hours=25)


def test_holiday_follows_the_rule_of_another_weekday() -> None:
    # Wednesday 11 November 2026 (Armistice) counts as a Sunday: residents all day.
    cal = SiteCalendar(PARIS, {date(2026, 11, 11): 6})
    assert not is_open(RESIDENTS, paris(2026, 11, 11, 12, 0))
    assert is_open(RESIDENTS, paris(2026, 11, 11, 12, 0), cal)
    assert is_open(RESIDENTS, paris(2026, 11, 11, 23, 0), cal)
    # Thursday 07:00 would come from Wednesday's night window; a Sunday opens none.
    assert is_open(RESIDENTS, paris(2026, 11, 12, 7, 0))
    assert not is_open(RESIDENTS, paris(2026, 11, 12, 7, 0), cal)


def test_slot_coverage_joins_adjacent_windows() -> None:
    # Friday 22:00 to Saturday 10:00: the night window, then the weekend window.
    assert covers(RESIDENTS, CAL, paris(2026, 11, 27, 22), paris(2026, 11, 28, 10))
    # Thursday 18:00 to 20:00 starts before the night window opens.
    assert not covers(RESIDENTS, CAL, paris(2026, 11, 26, 18), paris(2026, 11, 26, 20))
    # Monday 07:00 to 09:00 runs past 08:00.
    assert not covers(RESIDENTS, CAL, paris(2026, 11, 30, 7), paris(2026, 11, 30, 9))


def test_slot_quota_is_the_tightest_window_quota() -> None:
    fleet = [WeeklyWindow(EVERY_DAY, 0, 720, quota=4), WeeklyWindow(EVERY_DAY, 720, 1440, quota=2)]
    assert slot_quota(fleet, CAL, paris(2026, 11, 25, 9), paris(2026, 11, 25, 11)) == 4
    assert slot_quota(fleet, CAL, paris(2026, 11, 25, 11), paris(2026, 11, 25, 13)) == 2
    assert slot_quota([WeeklyWindow(EVERY_DAY, 0, 1440)], CAL, paris(2026, 11, 25, 9),
                      paris(2026, 11, 25, 10)) is None  # fmt: skip


def test_next_opening() -> None:
    assert next_opening(RESIDENTS, CAL, paris(2026, 11, 25, 12)) == paris(2026, 11, 25, 19)
    assert next_opening([], CAL, paris(2026, 11, 25, 12)) is None


def test_window_rules_are_checked() -> None:
    with pytest.raises(ValueError):
        WeeklyWindow(frozenset(), 0, 60)
    with pytest.raises(ValueError):
        WeeklyWindow(frozenset({7}), 0, 60)
    with pytest.raises(ValueError):
        WeeklyWindow(EVERY_DAY, 0, 1441)
    assert parse_hhmm("19:00") == 1140
    assert parse_hhmm("24:00") == 1440
    with pytest.raises(ValueError):
        parse_hhmm("19:60")
