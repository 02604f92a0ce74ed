"""What invoices billed, line by line: reports count an invoiced line as it was billed.

A line source prices what is not invoiced yet at today's settings and plans; once a line is on
an invoice, its amount is the truth (a plan's fee or a credit's rate may change after). This
module reads issued lines by their (source, reference), the key that bills each thing once.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.billing.models import InvoiceLineRecord, InvoiceRecord


@dataclass(frozen=True)
class BilledLine:
    """An issued invoice line: its reference, the driver billed, amount excl. VAT, currency."""

    source_ref: str
    driver_id: int
    amount_excl_vat: Decimal
    currency: str


async def billed_lines(
    session: AsyncSession,
    source: str,
    refs: Collection[str] | None = None,
    ref_suffix: str | None = None,
) -> dict[str, BilledLine]:
    """The issued lines of `source` by reference: those in `refs`, or ending in `ref_suffix`
    (`:2026-11`, a month's plan fees), or all."""
    query = (
        select(
            InvoiceLineRecord.source_ref,
            InvoiceRecord.driver_id,
            InvoiceLineRecord.amount_excl_vat,
            InvoiceRecord.currency,
        )
        .join(InvoiceRecord, InvoiceRecord.id == InvoiceLineRecord.invoice_id)
        .where(InvoiceLineRecord.source == source)
    )
    if refs is not None:
        if not refs:
            return {}
        query = query.where(InvoiceLineRecord.source_ref.in_(list(refs)))
    if ref_suffix is not None:
        query = query.where(InvoiceLineRecord.source_ref.endswith(ref_suffix, autoescape=True))
    rows = await session.execute(query.order_by(InvoiceLineRecord.id))
    return {
        ref: BilledLine(ref, driver, amount, currency) for ref, driver, amount, currency in rows
    }
