"""What driver self-service needs of the settings: the signing secret, where links point, how
long links and sessions last, and the party whose contract ids drivers get."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from evhub.settings import Settings


@dataclass(frozen=True)
class AccountConfig:
    secret: bytes
    base_url: str
    country_code: str
    provider_id: str
    session_max_age: timedelta = timedelta(days=30)
    verify_ttl: timedelta = timedelta(hours=48)
    reset_ttl: timedelta = timedelta(hours=2)
    welcome_ttl: timedelta = timedelta(days=14)

    @classmethod
    def from_settings(cls, settings: Settings, secret: bytes) -> AccountConfig:
        return cls(
            secret=secret,
            base_url=settings.advertised_url(),
            country_code=settings.ocpi_country_code,
            provider_id=settings.ocpi_party_id,
            session_max_age=timedelta(hours=settings.driver_session_max_age_h),
            verify_ttl=timedelta(hours=settings.verify_link_ttl_h),
            reset_ttl=timedelta(hours=settings.reset_link_ttl_h),
            welcome_ttl=timedelta(hours=settings.welcome_link_ttl_h),
        )
