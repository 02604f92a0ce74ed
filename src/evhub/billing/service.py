"""Tariffs: create, replace, read, and which one prices a charge.

The stored body is the OCPI 2.2.1 Tariff object (§11.3.1) with the identity this operator gives
it: `country_code` and `party_id` of the CPO, an `id` of 36 characters, and `last_updated`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts import plans
from evhub.assets import service as assets
from evhub.billing.models import TariffRecord
from evhub.billing.tariff import Tariff, TariffBody
from evhub.errors import NotFound
from evhub.events import emit


@dataclass(frozen=True)
class Party:
    """The CPO this platform is in OCPI (OCPI 2.2.1 §11.3.1: the owner of its tariffs)."""

    country_code: str
    party_id: str


@dataclass(frozen=True)
class EvseRef:
    station_id: str
    evse_id: int


async def create_tariff(
    session: AsyncSession,
    now: datetime,
    party: Party,
    body: TariffBody,
    tariff_id: str | None = None,
) -> Tariff:
    tariff = _identified(body, tariff_id or str(uuid.uuid4()), party, now)
    record = TariffRecord(id=tariff.id, created_at=now)
    _store(record, tariff)
    session.add(record)
    await session.flush()
    emit(session, "tariff.created", now, tariff_id=tariff.id, currency=tariff.currency)
    return tariff


async def replace_tariff(
    session: AsyncSession, now: datetime, party: Party, tariff_id: str, body: TariffBody
) -> Tariff:
    """OCPI tariffs are replaced whole, never patched (§11.2.2 PUT)."""
    record = await _record(session, tariff_id)
    tariff = _identified(body, tariff_id, party, now)
    _store(record, tariff)
    emit(session, "tariff.updated", now, tariff_id=tariff_id, currency=tariff.currency)
    return tariff


async def get_tariff(session: AsyncSession, tariff_id: str) -> Tariff:
    return Tariff.model_validate((await _record(session, tariff_id)).body)


async def list_tariffs(session: AsyncSession) -> list[Tariff]:
    rows = await session.execute(
        select(TariffRecord).order_by(TariffRecord.created_at, TariffRecord.id)
    )
    return [Tariff.model_validate(r.body) for r in rows.scalars()]


async def tariff_for(
    session: AsyncSession,
    site_id: int,
    evse: EvseRef | None = None,
    driver: int | None = None,
    at: datetime | None = None,
) -> Tariff | None:
    """The tariff that prices a charge at `evse` of `site_id` by `driver` starting `at`: the
    first found, and valid then, of the driver's plan tariff, the EVSE's tariff, the site's
    public tariff. Only the site's exists yet; the others slot in before it, each a lookup
    returning a tariff id or None. The tariff valid at the start prices the whole charge
    (OCPI 2.2.1 §11.3.1, note on start_date_time)."""
    for tariff_id in (
        await _plan_tariff(session, driver),
        await _evse_tariff(session, evse),
        await _site_tariff(session, site_id),
    ):
        if tariff_id is None:
            continue
        tariff = await get_tariff(session, tariff_id)
        if at is None or _valid(tariff, at):
            return tariff
    return None


def _valid(tariff: Tariff, at: datetime) -> bool:
    start, end = tariff.start_date_time, tariff.end_date_time
    return (start is None or start <= at) and (end is None or at < end)


async def _plan_tariff(session: AsyncSession, driver: int | None) -> str | None:
    return await plans.plan_tariff_id(session, driver)


async def _evse_tariff(session: AsyncSession, evse: EvseRef | None) -> str | None:
    return None  # EVSEs carry no tariff yet


async def _site_tariff(session: AsyncSession, site_id: int) -> str | None:
    return (await assets.get_site(session, site_id)).tariff_id


async def _record(session: AsyncSession, tariff_id: str) -> TariffRecord:
    record = await session.get(TariffRecord, tariff_id)
    if record is None:
        raise NotFound(f"tariff {tariff_id!r} not found")
    return record


def _identified(body: TariffBody, tariff_id: str, party: Party, now: datetime) -> Tariff:
    return Tariff.model_validate(
        body.model_dump()
        | {
            "id": tariff_id,
            "country_code": party.country_code,
            "party_id": party.party_id,
            "last_updated": now,
        }
    )


def _store(record: TariffRecord, tariff: Tariff) -> None:
    record.country_code = tariff.country_code
    record.party_id = tariff.party_id
    record.currency = tariff.currency
    record.type = tariff.type
    low, high = tariff.min_price, tariff.max_price
    record.min_price_excl_vat = low.excl_vat if low else None
    record.min_price_incl_vat = low.incl_vat if low else None
    record.max_price_excl_vat = high.excl_vat if high else None
    record.max_price_incl_vat = high.incl_vat if high else None
    record.start_date_time = tariff.start_date_time
    record.end_date_time = tariff.end_date_time
    record.body = tariff.model_dump(mode="json", exclude_defaults=True)
    record.last_updated = tariff.last_updated
