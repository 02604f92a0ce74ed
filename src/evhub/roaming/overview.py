"""Roaming as the console shows it: partners and the state of their exchanges, the Sessions
and CDRs of both roles. Read-only queries; nothing here changes a row.

As CPO, a roaming Session is a transaction at evhub's stations charged with a partner's token
and its CDR one of billing's, pushed through `deliveries`; as eMSP, both are objects partner
CPOs pushed to evhub (`remote`), and a received CDR is invoiced once (`invoice_lines`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.billing.models import CdrRecord, InvoiceLineRecord
from evhub.charging.models import Transaction
from evhub.roaming import partners
from evhub.roaming.invoice_lines import SOURCE, line_ref
from evhub.roaming.models import Delivery, Partner, PullCheckpoint, RemoteObject, Session


@dataclass(frozen=True)
class PartnerView:
    partner: Partner
    pulled: dict[str, datetime]  # module -> start of its last complete pull
    received: dict[str, datetime]  # module -> the last object the partner pushed or we pulled
    owed: int  # pushes not yet acknowledged
    last_delivered: datetime | None
    last_error: str | None  # of the newest push still owed that failed


async def partner_views(session: AsyncSession) -> list[PartnerView]:
    pulled: dict[int, dict[str, datetime]] = {}
    for row in await session.scalars(select(PullCheckpoint)):
        pulled.setdefault(row.partner_id, {})[row.module] = row.pulled_at
    received: dict[int, dict[str, datetime]] = {}
    last_object = (
        select(RemoteObject.partner_id, RemoteObject.module, func.max(RemoteObject.pulled_at))
        .group_by(RemoteObject.partner_id, RemoteObject.module)
    )  # fmt: skip
    for partner_id, module, at in await session.execute(last_object):
        received.setdefault(partner_id, {})[module] = at
    owed = {partner_id: count for partner_id, count in await session.execute(
        select(Delivery.partner_id, func.count()).where(Delivery.delivered_at.is_(None))
        .group_by(Delivery.partner_id)
    )}  # fmt: skip
    delivered = {partner_id: at for partner_id, at in await session.execute(
        select(Delivery.partner_id, func.max(Delivery.delivered_at)).group_by(Delivery.partner_id)
    )}  # fmt: skip
    newest_failing = (
        select(func.max(Delivery.id))
        .where(Delivery.delivered_at.is_(None), Delivery.last_error.is_not(None))
        .group_by(Delivery.partner_id)
    )
    errors = {partner_id: error for partner_id, error in await session.execute(
        select(Delivery.partner_id, Delivery.last_error).where(Delivery.id.in_(newest_failing))
    )}  # fmt: skip
    return [
        PartnerView(p, pulled.get(p.id, {}), received.get(p.id, {}), owed.get(p.id, 0),
                    delivered.get(p.id), errors.get(p.id))
        for p in await partners.list_all(session)
    ]  # fmt: skip


async def failing(session: AsyncSession, limit: int = 50) -> list[Delivery]:
    """Pushes still owed whose last attempt failed, oldest first (the order they block in)."""
    query = (
        select(Delivery)
        .where(Delivery.delivered_at.is_(None), Delivery.last_error.is_not(None))
        .order_by(Delivery.id)
    )
    return list(await session.scalars(query.limit(limit)))


@dataclass(frozen=True)
class CpoSession:
    session: Session
    transaction: Transaction
    partner_name: str


async def cpo_sessions(session: AsyncSession, limit: int, offset: int) -> list[CpoSession]:
    """Charges of partners' drivers at evhub's stations, newest first."""
    rows = await session.execute(
        select(Session, Transaction, Partner.name)
        .join(Transaction, Transaction.id == Session.transaction_id)
        .join(Partner, Partner.id == Session.partner_id)
        .order_by(Session.id.desc()).limit(limit).offset(offset)
    )  # fmt: skip
    return [CpoSession(s, tx, name) for s, tx, name in rows]


@dataclass(frozen=True)
class Received:
    """An object a partner CPO sent evhub as eMSP (a Session or a CDR), as sent."""

    row: RemoteObject
    partner_name: str
    invoice_id: int | None = None  # a CDR's invoice, once billed

    @property
    def data(self) -> dict[str, Any]:
        return self.row.data


async def received(session: AsyncSession, module: str, limit: int, offset: int) -> list[Received]:
    rows = (await session.execute(
        select(RemoteObject, Partner.name).join(Partner, Partner.id == RemoteObject.partner_id)
        .where(RemoteObject.module == module)
        .order_by(RemoteObject.id.desc()).limit(limit).offset(offset)
    )).all()  # fmt: skip
    if module != "cdrs":
        return [Received(r, name) for r, name in rows]
    refs = {line_ref(r.country_code, r.party_id, r.object_id): r.id for r, _ in rows}
    billed = {ref: invoice_id for ref, invoice_id in await session.execute(
        select(InvoiceLineRecord.source_ref, InvoiceLineRecord.invoice_id)
        .where(InvoiceLineRecord.source == SOURCE, InvoiceLineRecord.source_ref.in_(refs))
    )}  # fmt: skip
    by_row = {row_id: billed.get(ref) for ref, row_id in refs.items()}
    return [Received(r, name, by_row.get(r.id)) for r, name in rows]


@dataclass(frozen=True)
class CpoCdr:
    cdr: CdrRecord
    partner_name: str
    push: Delivery | None  # its POST to the eMSP (None once pruned, or never owed)


async def cpo_cdrs(session: AsyncSession, limit: int, offset: int) -> list[CpoCdr]:
    """evhub's CDRs of roaming Sessions, newest first, with their push to the eMSP."""
    rows = (await session.execute(
        select(CdrRecord, Session, Partner.name)
        .join(Session, Session.transaction_id == CdrRecord.transaction_pk)
        .join(Partner, Partner.id == Session.partner_id)
        .order_by(CdrRecord.id.desc()).limit(limit).offset(offset)
    )).all()  # fmt: skip
    keys = [f"sessions/{s.transaction_id}" for _, s, _ in rows]
    posts: dict[tuple[str, str], Delivery] = {}
    for d in await session.scalars(
        select(Delivery).where(Delivery.object_key.in_(keys), Delivery.method == "POST")
        .order_by(Delivery.id)
    ):  # fmt: skip
        posts.setdefault((d.object_key, str(d.body.get("id"))), d)
    return [
        CpoCdr(cdr, name, posts.get((f"sessions/{s.transaction_id}", cdr.ocpi_id)))
        for cdr, s, name in rows
    ]
