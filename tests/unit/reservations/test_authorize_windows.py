"""Authorize at a station: refused outside the user group's windows or beyond its quota,
with a reason that says when the site opens; unchanged without a station."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from evhub.accounts import service as accounts
from evhub.accounts.service import Authorization
from evhub.charging import service as charging
from evhub.charging.service import TransactionStart
from evhub.reservations import access
from evhub.reservations.access import HolidaySpec, WindowSpec
from tests.unit.reservations.conftest import NOW, Hub

WEDNESDAY_NOON = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)  # 12:00 in Paris
WEDNESDAY_NIGHT = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)  # 21:00 in Paris


async def _rules(hub: Hub, quota: int | None = None) -> None:
    async with hub.uow() as s:
        await access.replace_windows(
            s,
            hub.site_id,
            [
                WindowSpec("resident", frozenset(range(5)), 19 * 60, 8 * 60, quota),
                WindowSpec("resident", frozenset({5, 6}), 0, 1440, quota),
            ],
            NOW,
        )


async def _authorize(
    hub: Hub, uid: str, at: datetime, station: str | None = "CP-A"
) -> Authorization:
    async with hub.uow() as s:
        return await access.authorize(s, uid, at, station_id=station)


async def test_outside_the_window_the_answer_is_not_at_this_time_with_the_reason(
    hub: Hub,
) -> None:
    await _rules(hub)
    auth = await _authorize(hub, "ADA-1", WEDNESDAY_NOON)
    assert auth.status == "NotAtThisTime"
    reason = auth.reason
    assert reason.startswith("resident drivers may not charge at Quai 9 at Wed 12:00")
    assert "next opening Wed 25 Nov 19:00" in reason
    assert "Mon,Tue,Wed,Thu,Fri 19:00-08:00" in reason
    inside = await _authorize(hub, "ADA-1", WEDNESDAY_NIGHT)
    assert inside.status == "Accepted"


async def test_without_a_station_or_for_an_unrestricted_group_nothing_changes(hub: Hub) -> None:
    await _rules(hub)
    assert (await _authorize(hub, "ADA-1", WEDNESDAY_NOON, None)).status == "Accepted"
    assert (await _authorize(hub, "BO-1", WEDNESDAY_NOON)).status == "Accepted"


async def test_a_holiday_opens_the_sunday_rule(hub: Hub) -> None:
    await _rules(hub)
    async with hub.uow() as s:
        await access.replace_holidays(s, hub.site_id, [HolidaySpec(date(2026, 11, 25), 6)])
    assert (await _authorize(hub, "ADA-1", WEDNESDAY_NOON)).status == "Accepted"


async def test_a_full_quota_refuses_the_next_driver_of_the_group(hub: Hub) -> None:
    await _rules(hub, quota=1)
    async with hub.uow() as s:
        other = await accounts.create_driver(s, "Di", None, "resident", NOW)
        await accounts.create_token(s, "DI-1", "ISO14443", "Accepted", NOW, other.id)
        start = TransactionStart("CP-B", 1, 1, WEDNESDAY_NIGHT, 0, "DI-1", "1.6")
        await charging.open_transaction(s, WEDNESDAY_NIGHT, start)
    refused = await _authorize(hub, "ADA-1", WEDNESDAY_NIGHT + timedelta(minutes=5))
    assert refused.status == "NotAtThisTime"
    assert refused.reason == "all 1 points for resident drivers at Quai 9 are in use"
    # The driver already charging is not counted against themself.
    again = await _authorize(hub, "DI-1", WEDNESDAY_NIGHT + timedelta(minutes=5))
    assert again.status == "Accepted"
