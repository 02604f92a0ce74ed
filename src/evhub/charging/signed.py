"""Storing signed meter values (German Eichrecht, OCMF): verbatim, once per reading."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.charging.models import SignedMeterValue
from evhub.charging.samples import SignedReading

_TABLE = cast(Table, SignedMeterValue.__table__)


async def store_signed(
    session: AsyncSession, transaction_pk: int, readings: Sequence[SignedReading]
) -> None:
    """Insert the readings; one already stored (a retried message) is skipped by its key."""
    if not readings:
        return
    rows = [
        {
            "transaction_pk": transaction_pk,
            "timestamp": r.timestamp,
            "context": r.context,
            "signing_method": r.signing_method,
            "encoding_method": r.encoding_method,
            "data": r.data,
            "data_hash": hashlib.sha256(r.data.encode()).hexdigest(),
            "public_key": r.public_key,
        }
        for r in readings
    ]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    await session.execute(dialect.insert(_TABLE).values(rows).on_conflict_do_nothing())


async def signed_values_of(session: AsyncSession, transaction_pk: int) -> list[SignedMeterValue]:
    result = await session.scalars(
        select(SignedMeterValue)
        .where(SignedMeterValue.transaction_pk == transaction_pk)
        .order_by(SignedMeterValue.timestamp, SignedMeterValue.id)
    )
    return list(result)
