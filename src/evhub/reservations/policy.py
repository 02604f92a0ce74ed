"""The timing rules of bookings: free cancellation, reservation lead, no-show, overstay."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from evhub.settings import Settings


@dataclass(frozen=True)
class BookingPolicy:
    free_cancellation: timedelta = timedelta(minutes=30)
    lead_time: timedelta = timedelta(minutes=10)
    no_show_grace: timedelta = timedelta(minutes=15)
    overstay_notice_every: timedelta = timedelta(minutes=15)
    max_slot: timedelta = timedelta(hours=24)
    period_s: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> BookingPolicy:
        return cls(
            free_cancellation=timedelta(minutes=settings.booking_free_cancellation_min),
            lead_time=timedelta(minutes=settings.reservation_lead_time_min),
            no_show_grace=timedelta(minutes=settings.reservation_no_show_grace_min),
            overstay_notice_every=timedelta(minutes=settings.overstay_notice_every_min),
            max_slot=timedelta(hours=settings.booking_max_slot_h),
            period_s=settings.reservation_period_s,
        )
