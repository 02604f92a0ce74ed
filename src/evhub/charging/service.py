"""Transactions and meter values: open, update, close, exactly once.

A station's messages are handled one at a time, so a check-then-insert per station is free of
races; retried messages are recognised by their natural keys (transaction id, seqNo, start
time and meter, sample timestamp) and change nothing the second time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts import service as accounts
from evhub.charging.models import MeterValue, Transaction, TransactionEvent
from evhub.charging.samples import POWER, SOC, Sample, energy_register_wh, latest
from evhub.charging.state import TransactionState, check_transition
from evhub.errors import NotFound
from evhub.events import emit


@dataclass(frozen=True)
class Opened:
    transaction: Transaction
    authorization: accounts.Authorization
    duplicate: bool


@dataclass(frozen=True)
class EventOutcome:
    transaction: Transaction
    authorization: accounts.Authorization | None
    duplicate: bool


async def start_transaction_v16(
    session: AsyncSession,
    now: datetime,
    station_id: str,
    connector_id: int,
    id_tag: str,
    meter_start_wh: int,
    timestamp: datetime,
    reservation_id: int | None = None,
) -> Opened:
    """OCPP 1.6 StartTransaction: the transaction is stored even when the tag is refused
    (the station has started it; §4.8), and a retry returns the same transaction id."""
    authorization = await accounts.authorize(session, id_tag, now)
    existing = (
        await session.execute(
            select(Transaction).where(
                Transaction.station_id == station_id,
                Transaction.evse_id == connector_id,
                Transaction.started_at == timestamp,
                Transaction.meter_start_wh == meter_start_wh,
                Transaction.id_token == id_tag,
            )
        )
    ).scalar_one_or_none()
    if existing is not None:
        return Opened(existing, authorization, duplicate=True)
    tx = _new_transaction(station_id, connector_id, 1, id_tag, timestamp, now, "1.6")
    tx.meter_start_wh = meter_start_wh
    tx.token_id = authorization.token_id
    session.add(tx)
    await session.flush()
    tx.ocpp_transaction_id = str(tx.id)
    _record_event(session, tx, 0, "Started", "Authorized", timestamp, now)
    emit(session, "transaction.started", now, **_summary(tx))
    return Opened(tx, authorization, duplicate=False)


async def stop_transaction_v16(
    session: AsyncSession,
    now: datetime,
    station_id: str,
    transaction_id: int,
    meter_stop_wh: int,
    timestamp: datetime,
    reason: str | None,
    id_tag: str | None,
    samples: list[Sample],
) -> EventOutcome:
    tx = await _find(session, station_id, str(transaction_id))
    if tx is None:
        raise NotFound(f"transaction {transaction_id} of {station_id} not found")
    authorization = await accounts.authorize(session, id_tag, now) if id_tag else None
    if samples:
        await store_samples(session, station_id, tx.evse_id, tx, samples)
    if tx.state == TransactionState.ENDED:
        return EventOutcome(tx, authorization, duplicate=True)
    _close(session, tx, timestamp, meter_stop_wh, reason or "Local", now)
    _record_event(session, tx, 1, "Ended", reason or "Local", timestamp, now)
    return EventOutcome(tx, authorization, duplicate=False)


async def transaction_event_v201(
    session: AsyncSession,
    now: datetime,
    station_id: str,
    event_type: str,
    transaction_id: str,
    seq_no: int,
    timestamp: datetime,
    trigger_reason: str,
    evse_id: int | None,
    connector_id: int | None,
    id_token: str | None,
    charging_state: str | None,
    stopped_reason: str | None,
    remote_start_id: int | None,
    samples: list[Sample],
) -> EventOutcome:
    """OCPP 2.0.1 TransactionEvent (E01-E15): one record per (transaction, seqNo)."""
    authorization = await accounts.authorize(session, id_token, now) if id_token else None
    tx = await _find(session, station_id, transaction_id)
    if tx is None:
        # Started, or the first event we see of a transaction whose start was not stored.
        tx = _new_transaction(
            station_id, evse_id or 0, connector_id or 1, id_token, timestamp, now, "2.0.1"
        )
        tx.ocpp_transaction_id = transaction_id
        tx.token_id = authorization.token_id if authorization else None
        start_wh = energy_register_wh(samples)
        tx.meter_start_wh = start_wh if start_wh is not None and event_type == "Started" else 0
        session.add(tx)
        await session.flush()
        emit(session, "transaction.started", now, **_summary(tx))
    elif await _seen(session, tx.id, seq_no):
        return EventOutcome(tx, authorization, duplicate=True)
    _record_event(session, tx, seq_no, event_type, trigger_reason, timestamp, now)
    _apply_event_fields(tx, evse_id, connector_id, id_token, authorization, remote_start_id)
    if charging_state:
        tx.charging_state = charging_state
    tx.last_seq_no = max(seq_no, tx.last_seq_no or 0)
    tx.updated_at = now
    if samples:
        await store_samples(session, station_id, tx.evse_id, tx, samples)
    if event_type == "Ended" and tx.state != TransactionState.ENDED:
        stop_wh = energy_register_wh(samples)
        _close(session, tx, timestamp, stop_wh, stopped_reason or "Local", now)
    return EventOutcome(tx, authorization, duplicate=False)


def _apply_event_fields(
    tx: Transaction,
    evse_id: int | None,
    connector_id: int | None,
    id_token: str | None,
    authorization: accounts.Authorization | None,
    remote_start_id: int | None,
) -> None:
    if evse_id:
        tx.evse_id = evse_id
    if connector_id:
        tx.connector_id = connector_id
    if id_token and tx.id_token is None:
        tx.id_token = id_token
        tx.token_id = authorization.token_id if authorization else None
    if remote_start_id is not None:
        tx.remote_start_id = remote_start_id


async def store_samples(
    session: AsyncSession,
    station_id: str,
    evse_id: int,
    tx: Transaction | None,
    samples: list[Sample],
) -> int:
    """Insert samples, ignoring ones already stored; keep the transaction's latest reading."""
    inserted = await insert_samples(session, station_id, evse_id, tx.id if tx else None, samples)
    if tx is not None:
        _update_latest(tx, samples)
    return inserted


def sample_rows(
    station_id: str, evse_id: int, transaction_pk: int | None, samples: list[Sample]
) -> list[dict[str, object]]:
    return [
        {
            "station_id": station_id,
            "evse_id": evse_id,
            "transaction_pk": transaction_pk,
            "timestamp": s.timestamp,
            "measurand": s.measurand,
            "phase": s.phase,
            "context": s.context,
            "value": s.value,
            "unit": s.unit,
        }
        for s in samples
    ]


async def insert_samples(
    session: AsyncSession,
    station_id: str,
    evse_id: int,
    transaction_pk: int | None,
    samples: list[Sample],
) -> int:
    return await insert_sample_rows(
        session, sample_rows(station_id, evse_id, transaction_pk, samples)
    )


_METER_TABLE = cast(Table, MeterValue.__table__)


async def insert_sample_rows(session: AsyncSession, rows: list[dict[str, object]]) -> int:
    """Insert meter value rows; a row already stored (a retried message) is skipped."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    inserted = 0
    for start in range(0, len(rows), 1000):  # stay under SQLite's bound-parameter limit
        # Core insert on the table: the ORM's bulk bookkeeping is wasted on append-only rows.
        statement = dialect.insert(_METER_TABLE).values(rows[start : start + 1000])
        result = await session.execute(statement.on_conflict_do_nothing())
        inserted += int(getattr(result, "rowcount", 0) or 0)
    return inserted


async def transaction_pk(session: AsyncSession, station_id: str, ocpp_id: str) -> int | None:
    result = await session.execute(
        select(Transaction.id).where(
            Transaction.station_id == station_id, Transaction.ocpp_transaction_id == ocpp_id
        )
    )
    return result.scalar_one_or_none()


async def active_transaction_pk(session: AsyncSession, station_id: str, evse_id: int) -> int | None:
    result = await session.execute(
        select(Transaction.id)
        .where(
            Transaction.station_id == station_id,
            Transaction.evse_id == evse_id,
            Transaction.state == TransactionState.ACTIVE,
        )
        .order_by(Transaction.started_at.desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


def _update_latest(tx: Transaction, samples: list[Sample]) -> None:
    register = energy_register_wh(samples)
    if register is not None and register >= (tx.meter_last_wh or 0):
        tx.meter_last_wh = register
    power = latest(samples, POWER)
    if power is not None:
        tx.power_last_w = power
    soc = latest(samples, SOC)
    if soc is not None:
        tx.soc_last_pct = soc


async def list_transactions(
    session: AsyncSession,
    station_id: str | None = None,
    state: str | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[Transaction]:
    query = select(Transaction)
    if station_id is not None:
        query = query.where(Transaction.station_id == station_id)
    if state is not None:
        query = query.where(Transaction.state == state)
    query = query.order_by(Transaction.started_at.desc(), Transaction.id.desc())
    return list((await session.execute(query.limit(limit).offset(offset))).scalars())


async def get_transaction(session: AsyncSession, transaction_pk: int) -> Transaction:
    tx = await session.get(Transaction, transaction_pk)
    if tx is None:
        raise NotFound(f"transaction {transaction_pk} not found")
    return tx


async def meter_values_of(session: AsyncSession, transaction_pk: int) -> list[MeterValue]:
    result = await session.execute(
        select(MeterValue)
        .where(MeterValue.transaction_pk == transaction_pk)
        .order_by(MeterValue.timestamp, MeterValue.id)
    )
    return list(result.scalars())


async def _find(session: AsyncSession, station_id: str, ocpp_id: str) -> Transaction | None:
    result = await session.execute(
        select(Transaction).where(
            Transaction.station_id == station_id, Transaction.ocpp_transaction_id == ocpp_id
        )
    )
    return result.scalar_one_or_none()


async def _seen(session: AsyncSession, transaction_pk: int, seq_no: int) -> bool:
    result = await session.execute(
        select(TransactionEvent.id).where(
            TransactionEvent.transaction_pk == transaction_pk, TransactionEvent.seq_no == seq_no
        )
    )
    return result.first() is not None


def _new_transaction(
    station_id: str,
    evse_id: int,
    connector_id: int,
    id_token: str | None,
    started_at: datetime,
    now: datetime,
    version: str,
) -> Transaction:
    return Transaction(
        station_id=station_id,
        ocpp_transaction_id=uuid.uuid4().hex,
        evse_id=evse_id,
        connector_id=connector_id,
        id_token=id_token,
        state=TransactionState.ACTIVE,
        started_at=started_at,
        meter_start_wh=0,
        ocpp_version=version,
        created_at=now,
        updated_at=now,
    )


def _close(
    session: AsyncSession,
    tx: Transaction,
    stopped_at: datetime,
    meter_stop_wh: int | None,
    reason: str,
    now: datetime,
) -> None:
    check_transition(tx.state, TransactionState.ENDED)
    tx.state = TransactionState.ENDED
    tx.stopped_at = stopped_at
    if meter_stop_wh is None:
        meter_stop_wh = tx.meter_last_wh if tx.meter_last_wh is not None else tx.meter_start_wh
    tx.meter_stop_wh = meter_stop_wh
    tx.meter_last_wh = max(meter_stop_wh, tx.meter_last_wh or 0)
    tx.stop_reason = reason
    tx.updated_at = now
    emit(session, "transaction.ended", now, **_summary(tx))


def _record_event(
    session: AsyncSession,
    tx: Transaction,
    seq_no: int,
    event_type: str,
    trigger: str,
    timestamp: datetime,
    now: datetime,
) -> None:
    session.add(
        TransactionEvent(
            transaction_pk=tx.id,
            seq_no=seq_no,
            event_type=event_type,
            trigger_reason=trigger,
            timestamp=timestamp,
            received_at=now,
        )
    )


def _summary(tx: Transaction) -> dict[str, object]:
    return {
        "transaction_id": tx.id,
        "station_id": tx.station_id,
        "evse_id": tx.evse_id,
        "id_token": tx.id_token,
        "energy_wh": tx.energy_wh,
        "state": str(tx.state),
    }
