"""REST shapes of bookings, free EVSEs, site calendars, access windows and holidays."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from evhub.accounts.schemas import UserGroup
from evhub.params import DbInt
from evhub.reservations.models import Booking
from evhub.reservations.state import BookingState, FeeRule

CurrentType = Literal["AC", "DC"]
# 00:00 to 23:59, and 24:00 for the end of the day (24:20 is no time of day).
HHMM = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"
Weekday = Annotated[int, Field(ge=0, le=6)]


class FreeEvseOut(BaseModel):
    station_id: str
    evse_id: int
    current_type: str
    max_power_kw: float
    online: bool


class BookingIn(BaseModel):
    driver_id: DbInt
    site_id: DbInt
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    energy_kwh: float = Field(gt=0, le=1000, description="The energy the driver needs.")
    departure_at: AwareDatetime | None = Field(
        default=None, description="Planned departure; the end of the slot when omitted."
    )
    current_type: CurrentType | None = None
    min_power_kw: float | None = Field(default=None, gt=0)
    id_token: str | None = Field(
        default=None, max_length=36, description="The driver's token; the first accepted one."
    )
    station_id: str | None = Field(default=None, description="With evse_id: this EVSE only.")
    evse_id: DbInt | None = Field(default=None, ge=1)


class BookingPatch(BaseModel):
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    energy_kwh: float | None = Field(default=None, gt=0, le=1000)
    departure_at: AwareDatetime | None = None


class CancelIn(BaseModel):
    note: str = Field(default="", max_length=255)


class OverrideIn(BaseModel):
    """Operator override: cancel without a fee, or put the booking on a given EVSE."""

    action: Literal["cancel", "assign"]
    station_id: str | None = None
    evse_id: DbInt | None = Field(default=None, ge=1)
    note: str = Field(default="", max_length=255)


class BookingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    site_id: int
    driver_id: int
    station_id: str | None
    evse_id: int | None
    id_token: str
    user_group: str
    state: BookingState
    starts_at: dt.datetime
    ends_at: dt.datetime
    energy_kwh: float
    departure_at: dt.datetime
    reserved_at: dt.datetime | None
    reassignments: int
    transaction_id: int | None
    fee_rule: FeeRule | None
    idle_since: dt.datetime | None
    idle_minutes: int
    cancelled_at: dt.datetime | None
    cancelled_by: str | None
    note: str
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, booking: Booking, places: dict[int, tuple[str, int]]) -> BookingOut:
        station_id, evse_id = places.get(booking.evse_pk or 0, (None, None))
        return cls(
            **{k: getattr(booking, k) for k in _BOOKING_FIELDS},
            station_id=station_id,
            evse_id=evse_id,
            transaction_id=booking.transaction_pk,
        )


_BOOKING_FIELDS = [
    f for f in BookingOut.model_fields if f not in ("station_id", "evse_id", "transaction_id")
]


class CalendarEvseOut(BaseModel):
    station_id: str
    evse_id: int
    current_type: str
    max_power_kw: float
    bookings: list[BookingOut]


class CalendarOut(BaseModel):
    site_id: int
    timezone: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    evses: list[CalendarEvseOut]
    unassigned: list[BookingOut]


class AccessWindowIn(BaseModel):
    user_group: UserGroup
    days: list[Weekday] = Field(
        min_length=1, max_length=7, description="Weekdays, 0 = Monday ... 6 = Sunday."
    )
    start: str = Field(pattern=HHMM, examples=["19:00"], description="Local time it opens.")
    end: str = Field(
        pattern=HHMM, examples=["08:00"], description="Closes; at or before start: the next day."
    )
    quota: DbInt | None = Field(
        default=None, ge=0, description="Points the group may hold at once."
    )


class AccessWindowOut(AccessWindowIn):
    id: int


class HolidayIn(BaseModel):
    day: dt.date
    treat_as: DbInt = Field(default=6, ge=0, le=6, description="The weekday whose rules apply.")
    name: str = Field(default="", max_length=100)


class HolidayOut(HolidayIn):
    model_config = ConfigDict(from_attributes=True)
