"""A driver's charging sessions, found by the tokens the driver holds.

The accounts domain says which tokens are the driver's; this one only reads the transactions
started with them, so a driver sees their own sessions and no one else's.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.charging.models import Transaction
from evhub.charging.state import TransactionState
from evhub.errors import NotFound


async def sessions_of(
    session: AsyncSession, token_uids: Sequence[str], active_only: bool = False, limit: int = 50
) -> list[Transaction]:
    """The sessions started with these tokens, newest first."""
    if not token_uids:
        return []
    query = select(Transaction).where(Transaction.id_token.in_(list(token_uids)))
    if active_only:
        query = query.where(Transaction.state == TransactionState.ACTIVE)
    query = query.order_by(Transaction.started_at.desc(), Transaction.id.desc()).limit(limit)
    return list((await session.execute(query)).scalars())


async def session_of(
    session: AsyncSession, token_uids: Sequence[str], transaction_pk: int
) -> Transaction:
    """The session if one of these tokens started it; NotFound otherwise, whether it does not
    exist or is someone else's (a driver learns nothing of others' sessions)."""
    tx = await session.get(Transaction, transaction_pk)
    if tx is None or tx.id_token is None or tx.id_token not in token_uids:
        raise NotFound(f"session {transaction_pk} not found")
    return tx
