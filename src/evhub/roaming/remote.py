"""evhub as eMSP: partners' locations and tariffs, cached (pulled, or pushed to evhub)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.events import emit
from evhub.roaming import partners
from evhub.roaming.context import RoamingContext
from evhub.roaming.models import Partner, PullCheckpoint, RemoteObject
from evhub.roaming.wire import (
    InterfaceRole,
    OcpiError,
    OcpiStatus,
    PartnerError,
    Role,
    format_timestamp,
    parse_timestamp,
)

log = logging.getLogger("evhub.roaming")
PULLED_MODULES = ("locations", "tariffs")
CLOCK_MARGIN = timedelta(minutes=5)


async def store_object(
    session: AsyncSession, partner: Partner, module: str, obj: dict[str, Any], now: datetime
) -> RemoteObject:
    """Insert or replace one object; the owner must be a CPO party of this partner."""
    try:
        key = (str(obj["country_code"]), str(obj["party_id"]), str(obj["id"]))
        last_updated = parse_timestamp(str(obj["last_updated"]))
    except (KeyError, ValueError) as exc:
        raise OcpiError(
            f"{module} object lacks a field: {exc}", OcpiStatus.INVALID_PARAMETERS
        ) from exc
    if not partners.plays(partner, Role.CPO, key[0], key[1]):
        raise OcpiError(
            f"{key[0]}*{key[1]} is not a CPO of this partner", OcpiStatus.INVALID_PARAMETERS
        )
    row = await find_object(session, module, *key)
    if row is None:
        row = RemoteObject(module=module, country_code=key[0], party_id=key[1], object_id=key[2],
                           partner_id=partner.id, data=obj, last_updated=last_updated,
                           pulled_at=now)  # fmt: skip
        try:
            async with session.begin_nested():  # a concurrent pull may have inserted it
                session.add(row)
        except IntegrityError:
            row = await find_object(session, module, *key)
            assert row is not None
    if row.last_updated > last_updated:
        return row  # an older copy (a push overtaken by a pull, or the reverse) changes nothing
    row.partner_id, row.data, row.last_updated, row.pulled_at = partner.id, obj, last_updated, now
    await session.flush()
    emit(session, f"roaming.remote_{module}_stored", now, partner_id=partner.id, object_id=key[2])
    return row


async def store_pushed(
    session: AsyncSession,
    partner: Partner,
    module: str,
    url_key: tuple[str, str, str],
    obj: dict[str, Any],
    now: datetime,
) -> bool:
    """A whole object a partner PUT at `url_key` (country code, party id, object id), which the
    object must name too (OCPI 2.2.1 §8.2.2.2, §9.2.2.2); True when it replaced one."""
    if (obj.get("country_code"), obj.get("party_id"), obj.get("id")) != url_key:
        singular = module.removesuffix("s")
        raise OcpiError(f"the {singular} does not match its URL", OcpiStatus.INVALID_PARAMETERS)
    existing = await find_object(session, module, *url_key)
    await store_object(session, partner, module, obj, now)
    return existing is not None


async def find_object(
    session: AsyncSession, module: str, country_code: str, party_id: str, object_id: str
) -> RemoteObject | None:
    result = await session.execute(
        select(RemoteObject).where(
            RemoteObject.module == module,
            RemoteObject.country_code == country_code,
            RemoteObject.party_id == party_id,
            RemoteObject.object_id == object_id,
        )
    )
    return result.scalar_one_or_none()


async def list_objects(
    session: AsyncSession, module: str, partner_id: int | None = None
) -> list[RemoteObject]:
    query = select(RemoteObject).where(RemoteObject.module == module)
    if partner_id is not None:
        query = query.where(RemoteObject.partner_id == partner_id)
    return list((await session.execute(query.order_by(RemoteObject.id))).scalars())


async def pull(ctx: RoamingContext, partner_id: int, module: str) -> int:
    """GET every page of a CPO's `module` changed since the last complete pull (§4.1.3:
    `date_from` inclusive), store each object, then move the checkpoint to the pull's start."""
    started = ctx.clock.now()
    async with ctx.uow() as session:
        partner = await partners.get(session, partner_id)
        url = partners.endpoint(partner, module, InterfaceRole.SENDER)
        to, credential = partners.party(partner, Role.CPO), partners.credential(partner)
        last = await checkpoint(session, partner_id, module)
    if url is None or to is None:
        raise PartnerError(f"partner {partner_id} offers no CPO {module} endpoint")
    params = {"date_from": format_timestamp(last.pulled_until)} if last else None
    count = 0
    async for page in ctx.client.pages(url, credential, to, params):
        async with ctx.uow() as session:
            partner = await partners.get(session, partner_id)
            for obj in page:
                try:
                    await store_object(session, partner, module, obj, ctx.clock.now())
                except OcpiError as exc:
                    log.warning("event=roaming_object_skipped partner_id=%s module=%s error=%s",
                                partner_id, module, exc.message)  # fmt: skip
                    continue
                count += 1
    async with ctx.uow() as session:
        await mark_pulled(session, partner_id, module, started)
    return count


async def mark_pulled(
    session: AsyncSession, partner_id: int, module: str, started: datetime
) -> None:
    """A complete pull that began at `started`: the next asks from a little before it, so that
    a partner whose clock lags evhub's loses nothing (date_from is inclusive; stores are
    idempotent)."""
    until = started - CLOCK_MARGIN
    row = await checkpoint(session, partner_id, module)
    if row is None:
        session.add(PullCheckpoint(partner_id=partner_id, module=module, pulled_until=until,
                                   pulled_at=started))  # fmt: skip
    else:
        row.pulled_until, row.pulled_at = until, started


async def checkpoint(session: AsyncSession, partner_id: int, module: str) -> PullCheckpoint | None:
    result = await session.execute(
        select(PullCheckpoint).where(
            PullCheckpoint.partner_id == partner_id, PullCheckpoint.module == module
        )
    )
    return result.scalar_one_or_none()
