"""A driver's standing vehicle-to-grid choice: consent, the floor the battery never goes below,
the state of charge wanted at departure.

The planner reads a charge's V2X side from its `v2x_needs` row only; the standing choice goes
there: into the row of each charge of the driver already running when it changes, and into a
new charge's row when its car first tells its V2X bounds (`seed`). What the driver says for one
charge through the API stays that charge's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts.models import Token
from evhub.charging.models import Transaction
from evhub.errors import InvalidInput
from evhub.events import emit
from evhub.planning import v2x_needs
from evhub.planning.models import DriverV2xSettings, V2xNeed
from evhub.planning.v2x_needs import DriverV2x


@dataclass(frozen=True)
class RunningCharge:
    """One of the driver's charges, as the driver's V2G page shows it."""

    transaction_pk: int
    station_id: str
    started_at: datetime
    soc_pct: float | None
    protocol: str
    consent: bool
    bidirectional: bool  # the car asked for a bidirectional transfer

    @property
    def can_discharge(self) -> bool:
        return self.protocol in v2x_needs.V2X_PROTOCOLS and self.bidirectional


def check(consent: bool, min_soc_pct: float | None, target_soc_pct: float | None) -> DriverV2x:
    for name, value in (("floor", min_soc_pct), ("target", target_soc_pct)):
        if value is not None and not 0 <= value <= 100:
            raise InvalidInput(f"the {name} is a state of charge between 0 and 100 %")
    if min_soc_pct is not None and target_soc_pct is not None and min_soc_pct > target_soc_pct:
        raise InvalidInput("the floor cannot be above the target")
    return DriverV2x(consent, min_soc_pct, target_soc_pct)


async def settings_of(session: AsyncSession, driver_id: int) -> DriverV2xSettings | None:
    return await session.get(DriverV2xSettings, driver_id)


async def save(session: AsyncSession, driver_id: int, choice: DriverV2x, now: datetime) -> None:
    """Keep the driver's choice and apply it to their running charges (re-planned at once)."""
    values: dict[str, Any] = {
        "consent": bool(choice.consent), "min_soc_pct": choice.min_soc_pct,
        "target_soc_pct": choice.target_soc_pct, "updated_at": now,
    }  # fmt: skip
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(DriverV2xSettings).values(driver_id=driver_id, **values)
    await session.execute(
        statement.on_conflict_do_update(index_elements=["driver_id"], set_=values)
    )
    emit(session, "driver.v2x_settings_changed", now, driver_id=driver_id)
    for tx in await _running(session, driver_id):
        await _apply(session, tx.id, choice, now)
        emit(session, "need.declared", now, station_id=tx.station_id, transaction_id=tx.id)


async def seed(session: AsyncSession, transaction_pk: int, now: datetime) -> None:
    """A new charge's V2X row starts from its driver's standing choice, if they made one."""
    if await session.get(V2xNeed, transaction_pk) is not None:
        return
    standing = await session.scalar(
        select(DriverV2xSettings)
        .join(Token, Token.driver_id == DriverV2xSettings.driver_id)
        .join(Transaction, Transaction.token_id == Token.id)
        .where(Transaction.id == transaction_pk)
    )
    if standing is not None:
        choice = DriverV2x(standing.consent, standing.min_soc_pct, standing.target_soc_pct)
        await _apply(session, transaction_pk, choice, now)


async def _apply(
    session: AsyncSession, transaction_pk: int, choice: DriverV2x, now: datetime
) -> None:
    # `declare_driver` keeps what is None; a floor or target taken away must go too.
    await v2x_needs.declare_driver(session, transaction_pk, choice, now)
    row = await session.get(V2xNeed, transaction_pk)
    assert row is not None
    row.min_soc_pct, row.target_soc_pct = choice.min_soc_pct, choice.target_soc_pct


async def running_charges(session: AsyncSession, driver_id: int) -> list[RunningCharge]:
    txs = await _running(session, driver_id)
    rows = await v2x_needs.rows_of(session, [tx.id for tx in txs])
    return [
        RunningCharge(
            tx.id,
            tx.station_id,
            tx.started_at,
            tx.soc_last_pct,
            tx.ocpp_version,
            bool(rows[tx.id].consent) if tx.id in rows else False,
            bool(rows[tx.id].bidirectional) if tx.id in rows else False,
        )  # fmt: skip
        for tx in txs
    ]


async def _running(session: AsyncSession, driver_id: int) -> list[Transaction]:
    query = (
        select(Transaction)
        .join(Token, Token.id == Transaction.token_id)
        .where(Token.driver_id == driver_id, Transaction.state == "active")
        .order_by(Transaction.started_at)
    )
    return list(await session.scalars(query))
