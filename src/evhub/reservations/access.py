"""Who may charge where and when: access windows and quotas per user group, from the database.

A user group with no window at a site is not restricted there; once it has windows, its drivers
charge (and book) only inside them, and a window's quota caps how many points the group holds
at once. A token without a driver counts as a visitor. A driver holding a booking that covers
now (or starts within `EARLY_ARRIVAL`) is let in whatever the windows say: the spot is theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts import service as accounts
from evhub.accounts.models import Driver, Token
from evhub.accounts.service import Authorization
from evhub.assets import service as assets
from evhub.assets.models import Site, Station
from evhub.charging.models import Transaction
from evhub.charging.state import TransactionState
from evhub.errors import InvalidInput, NotFound
from evhub.reservations.errors import OutsideAccessWindow, QuotaReached
from evhub.reservations.models import AccessWindow, Booking, SiteHoliday
from evhub.reservations.state import HOLDING, BookingState
from evhub.reservations.windows import (
    SiteCalendar,
    WeeklyWindow,
    covers,
    next_opening,
    open_windows_at,
    slot_quota,
)

DEFAULT_GROUP = "visitor"
EARLY_ARRIVAL = timedelta(minutes=15)
QUOTA_LOCK_CLASS = 0x5E5E  # pg_advisory_xact_lock(class, site_id) serialises quota checks


@dataclass(frozen=True)
class WindowSpec:
    user_group: str
    days: frozenset[int]
    start_minute: int
    end_minute: int
    quota: int | None = None


@dataclass(frozen=True)
class HolidaySpec:
    day: date
    treat_as: int = 6
    name: str = ""


def to_rule(row: AccessWindow) -> WeeklyWindow:
    days = frozenset(int(d) for d in row.days)
    return WeeklyWindow(days, row.start_minute, row.end_minute, row.quota)


async def site_calendar(session: AsyncSession, site: Site) -> SiteCalendar:
    rows = await session.execute(
        select(SiteHoliday.day, SiteHoliday.treat_as).where(SiteHoliday.site_id == site.id)
    )
    return SiteCalendar(ZoneInfo(site.timezone), {day: kind for day, kind in rows.all()})


async def group_windows(session: AsyncSession, site_id: int, user_group: str) -> list[WeeklyWindow]:
    rows = await session.execute(
        select(AccessWindow)
        .where(AccessWindow.site_id == site_id, AccessWindow.user_group == user_group)
        .order_by(AccessWindow.id)
    )
    return [to_rule(row) for row in rows.scalars()]


async def list_windows(session: AsyncSession, site_id: int) -> list[AccessWindow]:
    rows = await session.execute(
        select(AccessWindow).where(AccessWindow.site_id == site_id).order_by(AccessWindow.id)
    )
    return list(rows.scalars())


async def replace_windows(
    session: AsyncSession, site_id: int, specs: list[WindowSpec], now: datetime
) -> list[AccessWindow]:
    """Set a site's windows (all groups at once: the list is the whole rule book)."""
    await assets.get_site(session, site_id)
    for spec in specs:
        try:
            WeeklyWindow(spec.days, spec.start_minute, spec.end_minute, spec.quota)
        except ValueError as exc:
            raise InvalidInput(f"window of {spec.user_group}: {exc}") from exc
    await session.execute(delete(AccessWindow).where(AccessWindow.site_id == site_id))
    rows = [
        AccessWindow(
            site_id=site_id,
            user_group=s.user_group,
            days="".join(str(d) for d in sorted(s.days)),
            start_minute=s.start_minute,
            end_minute=s.end_minute,
            quota=s.quota,
            created_at=now,
        )
        for s in specs
    ]
    session.add_all(rows)
    await session.flush()
    return rows


async def list_holidays(session: AsyncSession, site_id: int) -> list[SiteHoliday]:
    rows = await session.execute(
        select(SiteHoliday).where(SiteHoliday.site_id == site_id).order_by(SiteHoliday.day)
    )
    return list(rows.scalars())


async def replace_holidays(
    session: AsyncSession, site_id: int, specs: list[HolidaySpec]
) -> list[SiteHoliday]:
    await assets.get_site(session, site_id)
    if len({s.day for s in specs}) != len(specs):
        raise InvalidInput("a date is listed twice")
    if any(not 0 <= s.treat_as <= 6 for s in specs):
        raise InvalidInput("treat_as is a weekday, 0 (Monday) .. 6 (Sunday)")
    await session.execute(delete(SiteHoliday).where(SiteHoliday.site_id == site_id))
    rows = [SiteHoliday(site_id=site_id, day=h.day, treat_as=h.treat_as, name=h.name[:100])
            for h in specs]  # fmt: skip
    session.add_all(rows)
    await session.flush()
    return rows


async def user_group_of(session: AsyncSession, driver_id: int | None) -> str:
    if driver_id is None:
        return DEFAULT_GROUP
    group = await session.scalar(select(Driver.user_group).where(Driver.id == driver_id))
    return group or DEFAULT_GROUP


async def authorize(
    session: AsyncSession, uid: str, now: datetime, station_id: str | None = None
) -> Authorization:
    """Whether `uid` may charge now: a valid token (accounts), and at `station_id` within its
    user group's access windows and quota there (OCPP 2.0.1 C01 NotAtThisTime)."""
    authorization = await accounts.authorize(session, uid, now)
    if station_id is None or not authorization.accepted:
        return authorization
    token = await accounts.find_token(session, uid)
    assert token is not None  # accepted, so known
    refusal = await refusal_at_station(session, station_id, token, now)
    if refusal is None:
        return authorization
    return Authorization("NotAtThisTime", refusal, token.id, token.group_id)


async def refusal_at_station(
    session: AsyncSession, station_id: str, token: Token, now: datetime
) -> str | None:
    """Why `token` may not charge at `station_id` now (OCPP 2.0.1 NotAtThisTime), or None."""
    station = await session.get(Station, station_id)
    if station is None:
        raise NotFound(f"station {station_id!r} not found")
    site = await assets.get_site(session, station.site_id)
    group = await user_group_of(session, token.driver_id)
    windows = await group_windows(session, site.id, group)
    if not windows or await _holds_booking(session, site.id, token.driver_id, now):
        return None
    calendar = await site_calendar(session, site)
    open_now = open_windows_at(windows, calendar, now)
    if not open_now:
        return closed_reason(site, group, windows, calendar, now)
    quotas = [w.quota for w in open_now if w.quota is not None]
    if quotas and await _points_in_use(session, site.id, group, token, now) >= min(quotas):
        return f"all {min(quotas)} points for {group} drivers at {site.name} are in use"
    return None


def closed_reason(
    site: Site, group: str, windows: list[WeeklyWindow], calendar: SiteCalendar, now: datetime
) -> str:
    local = now.astimezone(calendar.tz)
    reason = f"{group} drivers may not charge at {site.name} at {local:%a %H:%M} ({site.timezone})"
    opening = next_opening(windows, calendar, now)
    if opening is not None:
        reason += f"; next opening {opening.astimezone(calendar.tz):%a %d %b %H:%M}"
    rules = "; ".join(w.describe() for w in windows)
    return f"{reason}; open {rules}"[:512]


async def check_slot(
    session: AsyncSession,
    site: Site,
    group: str,
    starts_at: datetime,
    ends_at: datetime,
    exclude_id: int | None = None,
) -> None:
    """Refuse a booking slot outside the group's windows or beyond its quota (`exclude_id`:
    the booking being moved, which does not count against itself)."""
    windows = await group_windows(session, site.id, group)
    if not windows:
        return
    calendar = await site_calendar(session, site)
    if not covers(windows, calendar, starts_at, ends_at):
        raise OutsideAccessWindow(
            f"{group} drivers may not charge at {site.name} for all of this slot",
            open=[w.describe() for w in windows],
            timezone=site.timezone,
        )
    quota = slot_quota(windows, calendar, starts_at, ends_at)
    if quota is None:
        return
    if session.get_bind().dialect.name == "postgresql":
        # Concurrent bookings of different EVSEs would each see room under the quota.
        lock = text("SELECT pg_advisory_xact_lock(:k, :site)")
        await session.execute(lock, {"k": QUOTA_LOCK_CLASS, "site": site.id})
    if await _peak_bookings(session, site.id, group, starts_at, ends_at, exclude_id) >= quota:
        raise QuotaReached(
            f"all {quota} points for {group} drivers at {site.name} are booked for this slot",
            quota=quota,
        )


async def _peak_bookings(
    session: AsyncSession,
    site_id: int,
    group: str,
    starts_at: datetime,
    ends_at: datetime,
    exclude_id: int | None,
) -> int:
    """The most bookings of the group holding points at the same time within the slot."""
    rows = await session.execute(
        select(Booking.starts_at, Booking.ends_at).where(
            Booking.site_id == site_id,
            Booking.user_group == group,
            Booking.state.in_(HOLDING),
            Booking.starts_at < ends_at,
            Booking.ends_at > starts_at,
            Booking.id != (exclude_id or -1),
        )
    )
    edges: list[tuple[datetime, int]] = []
    for start, end in rows.all():
        edges += [(max(start, starts_at), 1), (min(end, ends_at), -1)]
    peak = running = 0
    for _, step in sorted(edges):  # at equal times, -1 sorts before +1: back-to-back is fine
        running += step
        peak = max(peak, running)
    return peak


async def _holds_booking(
    session: AsyncSession, site_id: int, driver_id: int | None, now: datetime
) -> bool:
    if driver_id is None:
        return False
    found = await session.scalar(
        select(Booking.id)
        .where(
            Booking.site_id == site_id,
            Booking.driver_id == driver_id,
            Booking.state.in_(HOLDING),
            Booking.starts_at <= now + EARLY_ARRIVAL,
            Booking.ends_at > now,
        )
        .limit(1)
    )
    return found is not None


async def _points_in_use(
    session: AsyncSession, site_id: int, group: str, token: Token, now: datetime
) -> int:
    """Points the group holds at the site now: its running transactions (other than this
    token's) and its bookings covering now that have not started yet (other drivers')."""
    charging = await session.scalar(
        select(func.count(Transaction.id))
        .join(Station, Station.id == Transaction.station_id)
        .outerjoin(Token, Token.id == Transaction.token_id)
        .outerjoin(Driver, Driver.id == Token.driver_id)
        .where(
            Station.site_id == site_id,
            Transaction.state == TransactionState.ACTIVE,
            func.coalesce(Driver.user_group, DEFAULT_GROUP) == group,
            func.coalesce(Transaction.token_id, -1) != token.id,
        )
    )
    booked = await session.scalar(
        select(func.count(Booking.id)).where(
            Booking.site_id == site_id,
            Booking.user_group == group,
            Booking.state.in_((BookingState.BOOKED, BookingState.RESERVED)),
            Booking.starts_at <= now,
            Booking.ends_at > now,
            Booking.driver_id != (token.driver_id or -1),
        )
    )
    return int(charging or 0) + int(booked or 0)
