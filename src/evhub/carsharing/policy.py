"""The rules of car bookings and returns, read once from the settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from evhub.carsharing.fees import LateFeeRule
from evhub.settings import Settings


@dataclass(frozen=True)
class CarsharingPolicy:
    min_booking: timedelta = timedelta(minutes=30)
    max_booking: timedelta = timedelta(hours=72)
    early_start: timedelta = timedelta(minutes=10)
    no_show_grace: timedelta = timedelta(minutes=15)
    late_fee: LateFeeRule = LateFeeRule(
        timedelta(minutes=10), Decimal("15.00"), Decimal("0.50"), Decimal("150.00"), "EUR"
    )
    no_show_fee: Decimal = Decimal("10.00")  # excl. VAT, in the late fee's currency
    cleaning_fee: Decimal = Decimal("30.00")  # excl. VAT, a fixed price
    franchise_cap: Decimal = Decimal("800.00")  # a damage franchise is at most this, excl. VAT
    quota_bookings: int = 12
    quota_period: str = "week"
    low_soc_pct: float = 40.0
    hub_radius_m: float = 300.0
    photo_max_bytes: int = 5 * 1024 * 1024
    photos_per_report: int = 8
    period_s: float = 30.0
    energy_margin: float = 0.15
    default_trip_km: float = 50.0
    v2g_min_soc_pct: float = 40.0  # a hub's floor for its cars feeding the grid, by default
    price_per_hour: Decimal = Decimal("9.00")
    price_per_km: Decimal = Decimal("0.25")
    daily_cap: Decimal | None = Decimal("59.00")  # the time of each day costs at most this
    vat_rate: Decimal = Decimal("0.20")

    @classmethod
    def from_settings(cls, settings: Settings) -> CarsharingPolicy:
        return cls(
            min_booking=timedelta(minutes=settings.carsharing_min_booking_min),
            max_booking=timedelta(hours=settings.carsharing_max_booking_h),
            early_start=timedelta(minutes=settings.carsharing_early_start_min),
            no_show_grace=timedelta(minutes=settings.carsharing_no_show_grace_min),
            late_fee=LateFeeRule(
                timedelta(minutes=settings.carsharing_return_grace_min),
                settings.carsharing_late_fee_base,
                settings.carsharing_late_fee_per_min,
                settings.carsharing_late_fee_cap,
                settings.carsharing_currency.upper(),
            ),
            no_show_fee=settings.carsharing_no_show_fee,
            cleaning_fee=settings.carsharing_cleaning_fee,
            franchise_cap=settings.carsharing_damage_franchise_cap,
            quota_bookings=settings.carsharing_quota_bookings,
            quota_period=settings.carsharing_quota_period,
            low_soc_pct=settings.carsharing_low_soc_pct,
            hub_radius_m=settings.carsharing_hub_radius_m,
            photo_max_bytes=settings.carsharing_photo_max_bytes,
            photos_per_report=settings.carsharing_photos_per_report,
            period_s=settings.carsharing_period_s,
            energy_margin=settings.carsharing_energy_margin,
            default_trip_km=settings.carsharing_default_trip_km,
            v2g_min_soc_pct=settings.carsharing_v2g_min_soc_pct,
            price_per_hour=settings.carsharing_price_per_hour,
            price_per_km=settings.carsharing_price_per_km,
            daily_cap=settings.carsharing_price_daily_cap,
            vat_rate=settings.carsharing_vat_rate,
        )
