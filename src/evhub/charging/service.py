"""Transactions: open, update, close, exactly once, whichever protocol reported them.

The gateway translates its version's payloads into the value objects below. Retries are
recognised by keys the database enforces: the station's own transaction id, or for a start that
carries none, its start key (EVSE, time, meter start, token); and one record per (transaction,
sequence number). At most one transaction is active per EVSE (a partial unique index): a start
there ends the one still open, as superseded, in the same database transaction.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Text, cast, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts import service as accounts
from evhub.accounts.service import Authorization
from evhub.charging.meters import store_samples
from evhub.charging.models import (
    ACTIVE_EVSE_INDEX,
    START_KEY_INDEX,
    MeterValue,
    Transaction,
    TransactionEvent,
)
from evhub.charging.samples import Sample, SignedReading, energy_register_wh
from evhub.charging.signed import signed_values_of as signed_values_of
from evhub.charging.signed import store_signed
from evhub.charging.state import TransactionState, check_transition
from evhub.errors import Conflict, NotFound
from evhub.events import emit
from evhub.reservations import access
from evhub.reservations import lifecycle as bookings

log = logging.getLogger("evhub.charging")

SUPERSEDED = "Superseded"  # stop reason of a transaction ended by a new start on its EVSE
_OPEN_ATTEMPTS = 3
EVSE_LOCK_CLASS = 0x7E5E  # pg_advisory_xact_lock(class, hash) serialises starts on one EVSE


@dataclass(frozen=True)
class Step:
    """One reported moment of a transaction, recognised on retry by its sequence number."""

    seq_no: int
    kind: str  # Started, Updated, Ended
    trigger: str
    at: datetime


@dataclass(frozen=True)
class TransactionStart:
    station_id: str
    evse_id: int  # 0: not known yet
    connector_id: int
    started_at: datetime
    meter_start_wh: int | None  # None: the energy register among `samples`, else 0
    id_token: str | None
    protocol: str
    station_transaction_id: str | None = None  # None: the CSMS numbers it (its row id)
    reservation_id: int | None = None
    remote_start_id: int | None = None
    charging_state: str | None = None
    samples: tuple[Sample, ...] = ()
    signed: tuple[SignedReading, ...] = ()
    seq_no: int = 0
    trigger: str = "Authorized"


@dataclass(frozen=True)
class TransactionUpdate:
    station_id: str
    transaction_id: str
    step: Step
    evse_id: int | None = None
    connector_id: int | None = None
    id_token: str | None = None
    reservation_id: int | None = None
    remote_start_id: int | None = None
    charging_state: str | None = None
    samples: tuple[Sample, ...] = ()
    signed: tuple[SignedReading, ...] = ()


@dataclass(frozen=True)
class TransactionStop:
    station_id: str
    transaction_id: str
    step: Step  # its time is the stop time
    meter_stop_wh: int | None  # None: the energy register among `samples`, else the latest
    reason: str
    id_token: str | None = None
    charging_state: str | None = None
    samples: tuple[Sample, ...] = ()
    signed: tuple[SignedReading, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """The transaction, what the station is told about the token (if one came), and whether
    the message was a retry that changed nothing."""

    transaction: Transaction
    authorization: Authorization | None
    duplicate: bool


async def open_transaction(
    session: AsyncSession, now: datetime, start: TransactionStart
) -> Outcome:
    """A transaction started. It is stored even when the token is refused (the station has
    started it and is told to stop: OCPP 1.6 §4.8, 2.0.1 E05), and a retry returns the same
    transaction. The token's windows and quota at the site apply at start too."""
    authorization = (
        await access.authorize(session, start.id_token, now, start.station_id)
        if start.id_token
        else None
    )
    tx, created = await _known_or_created(session, now, start, authorization)
    step = Step(start.seq_no, "Started", start.trigger, start.started_at)
    if not created and await _seen(session, tx.id, step.seq_no):
        return Outcome(tx, authorization, duplicate=True)
    await _apply(session, now, tx, _update_of_start(start, step), authorization)
    return Outcome(tx, authorization, duplicate=False)


async def update_transaction(
    session: AsyncSession,
    now: datetime,
    update: TransactionUpdate,
    opening: TransactionStart | None = None,
) -> Outcome:
    """Something happened during a transaction (meter values, charging state, the token that
    authorises it: within its windows and quota, as at a start). `opening`: the transaction to
    open if its start never arrived."""
    tx = await _find_or_open(session, now, update.station_id, update.transaction_id, opening)
    authorization = None
    if update.id_token is not None and update.id_token == tx.id_token:
        authorization = await accounts.authorize(session, update.id_token, now)
    elif update.id_token is not None:
        authorization = await access.authorize(session, update.id_token, now, update.station_id)
    if await _seen(session, tx.id, update.step.seq_no):
        return Outcome(tx, authorization, duplicate=True)
    await _apply(session, now, tx, update, authorization)
    return Outcome(tx, authorization, duplicate=False)


async def close_transaction(
    session: AsyncSession,
    now: datetime,
    stop: TransactionStop,
    opening: TransactionStart | None = None,
) -> Outcome:
    """A transaction ended; it is closed once, whatever the retries. A transaction already
    ended as superseded keeps that end (its energy has been accounted for)."""
    authorization = await accounts.authorize(session, stop.id_token, now) if stop.id_token else None
    tx = await _find_or_open(session, now, stop.station_id, stop.transaction_id, opening)
    if await _seen(session, tx.id, stop.step.seq_no):
        return Outcome(tx, authorization, duplicate=True)
    update = TransactionUpdate(
        stop.station_id, stop.transaction_id, stop.step,
        charging_state=stop.charging_state, samples=stop.samples, signed=stop.signed,
    )  # fmt: skip
    await _apply(session, now, tx, update, None)
    if tx.state == TransactionState.ENDED:
        log.info("station=%s event=stop_of_ended_transaction tx=%s", tx.station_id, tx.id)
        return Outcome(tx, authorization, duplicate=False)
    stop_wh = stop.meter_stop_wh
    if stop_wh is None:
        stop_wh = energy_register_wh(list(stop.samples))
    _end(tx, stop.step.at, stop_wh, stop.reason, now)
    emit(session, "transaction.ended", now, **_summary(tx))
    return Outcome(tx, authorization, duplicate=False)


def _update_of_start(start: TransactionStart, step: Step) -> TransactionUpdate:
    return TransactionUpdate(
        start.station_id, "", step, evse_id=start.evse_id or None,
        connector_id=start.connector_id, reservation_id=start.reservation_id,
        remote_start_id=start.remote_start_id, charging_state=start.charging_state,
        samples=start.samples, signed=start.signed,
    )  # fmt: skip


async def _find_or_open(
    session: AsyncSession,
    now: datetime,
    station_id: str,
    transaction_id: str,
    opening: TransactionStart | None,
) -> Transaction:
    """The transaction, or the one `opening` describes when its start never arrived (its
    token is authorised when the token's own step comes)."""
    tx = await _find(session, station_id, transaction_id)
    if tx is not None:
        return tx
    if opening is None:
        raise NotFound(f"transaction {transaction_id} of {station_id} not found")
    tx, _ = await _known_or_created(session, now, opening, None)
    return tx


async def _known_or_created(
    session: AsyncSession,
    now: datetime,
    start: TransactionStart,
    authorization: Authorization | None,
) -> tuple[Transaction, bool]:
    """The transaction of `start` if it is stored already, else a new one (and True)."""
    tx = await _existing_start(session, start)
    if tx is not None:
        return tx, False
    return await _create(session, now, start, authorization)


async def _create(
    session: AsyncSession,
    now: datetime,
    start: TransactionStart,
    authorization: Authorization | None,
) -> tuple[Transaction, bool]:
    """Insert the transaction, ending the one still active on its EVSE in the same database
    transaction (OCPP 2.0.1 Part 2 §E: at most one transaction is active on an EVSE, and
    E01.FR.01-05 start one only when none has started on the EVSE yet; OCPP 1.6 §2.2, §4.8:
    a connector serves one vehicle at a time, so a StartTransaction on it means the previous
    transaction there is over). Writers starting on one EVSE at once (sockets of one station)
    queue on a transaction-scoped lock on PostgreSQL (SQLite has one writer); should one get
    past it, the insert fails on the index and the attempt is made again."""
    await _lock_evse(session, start.station_id, start.evse_id)
    for _ in range(_OPEN_ATTEMPTS):
        try:
            async with session.begin_nested():
                at = start.started_at
                superseded = await _end_active(session, start.station_id, start.evse_id, at, now)
                tx = _new_transaction(start, authorization, now)
                session.add(tx)
                await session.flush()
                if start.station_transaction_id is None:  # numbered here: its start is its key
                    tx.ocpp_transaction_id = str(tx.id)
                    await session.flush()
        except IntegrityError as exc:
            if not _is_key_conflict(exc):
                raise
            existing = await _existing_start(session, start)
            if existing is not None:  # the same start, written by the other socket
                return existing, False
            continue
        for old in superseded:
            log.info(
                "station=%s event=transaction_superseded tx=%s by=%s evse=%s",
                old.station_id, old.id, tx.id, old.evse_id,
            )  # fmt: skip
            emit(session, "transaction.ended", now, superseded_by=tx.id, **_summary(old))
        emit(session, "transaction.started", now, **_summary(tx))
        return tx, True
    raise Conflict(f"EVSE {start.evse_id} of {start.station_id} is being started concurrently")


async def _lock_evse(session: AsyncSession, station_id: str, evse_id: int) -> None:
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:k, hashtext(:evse))"),
            {"k": EVSE_LOCK_CLASS, "evse": f"{station_id}/{evse_id}"},
        )


async def _end_active(
    session: AsyncSession, station_id: str, evse_id: int, at: datetime, now: datetime
) -> list[Transaction]:
    """End what is still active on the EVSE as superseded at `at` (its meter stop: the latest
    reading); locked, so that two writers do not both end it."""
    if evse_id <= 0:
        return []
    running = await session.scalars(
        select(Transaction)
        .where(
            Transaction.station_id == station_id,
            Transaction.evse_id == evse_id,
            Transaction.state == TransactionState.ACTIVE,
        )
        .with_for_update()
    )
    ended = list(running)
    for old in ended:
        _end(old, max(at, old.started_at), None, SUPERSEDED, now)
    return ended


async def _apply(
    session: AsyncSession,
    now: datetime,
    tx: Transaction,
    update: TransactionUpdate,
    authorization: Authorization | None,
) -> None:
    """Record the step and what it says; link the booking it starts (a reservation id, or the
    driver's token on the booked EVSE: `reservations.lifecycle`)."""
    step = update.step
    session.add(
        TransactionEvent(
            transaction_pk=tx.id, seq_no=step.seq_no, event_type=step.kind,
            trigger_reason=step.trigger, timestamp=step.at, received_at=now,
        )
    )  # fmt: skip
    if update.evse_id and update.evse_id != tx.evse_id and tx.state == TransactionState.ACTIVE:
        await _move_to_evse(session, tx, update.evse_id, now)
    if update.connector_id:
        tx.connector_id = update.connector_id
    token_is_new = update.id_token is not None and tx.id_token is None
    if token_is_new:
        tx.id_token = update.id_token
        tx.token_id = authorization.token_id if authorization else None
    if update.remote_start_id is not None:
        tx.remote_start_id = update.remote_start_id
    if update.charging_state:
        tx.charging_state = update.charging_state
    tx.last_seq_no = max(step.seq_no, tx.last_seq_no or 0)
    tx.updated_at = now
    if update.samples:
        await store_samples(session, tx.station_id, tx.evse_id, tx, update.samples)
    await store_signed(session, tx.id, update.signed)
    if step.kind == "Started" or update.id_token or update.reservation_id is not None:
        await bookings.link_transaction(session, tx, now, update.reservation_id)


async def _move_to_evse(
    session: AsyncSession, tx: Transaction, evse_id: int, now: datetime
) -> None:
    """A transaction first seen without its EVSE learns it: it takes the EVSE over."""
    superseded = await _end_active(session, tx.station_id, evse_id, tx.started_at, now)
    await session.flush()  # the superseded one first: the index allows one active per EVSE
    tx.evse_id = evse_id
    for old in superseded:
        emit(session, "transaction.ended", now, superseded_by=tx.id, **_summary(old))


def _new_transaction(
    start: TransactionStart, authorization: Authorization | None, now: datetime
) -> Transaction:
    meter_start = start.meter_start_wh
    if meter_start is None:
        meter_start = energy_register_wh(list(start.samples)) or 0
    return Transaction(
        station_id=start.station_id,
        ocpp_transaction_id=start.station_transaction_id or uuid.uuid4().hex,
        evse_id=start.evse_id,
        connector_id=start.connector_id,
        id_token=start.id_token,
        token_id=authorization.token_id if authorization else None,
        state=TransactionState.ACTIVE,
        started_at=start.started_at,
        meter_start_wh=meter_start,
        ocpp_version=start.protocol,
        created_at=now,
        updated_at=now,
    )


def _is_key_conflict(exc: IntegrityError) -> bool:
    text = str(exc.orig)
    return any(
        key in text
        for key in (ACTIVE_EVSE_INDEX, START_KEY_INDEX, "ocpp_transaction_id", "UNIQUE constraint")
    )


async def _existing_start(session: AsyncSession, start: TransactionStart) -> Transaction | None:
    if start.station_transaction_id is not None:
        return await _find(session, start.station_id, start.station_transaction_id)
    if start.meter_start_wh is None:
        return None
    result = await session.execute(
        select(Transaction).where(
            Transaction.station_id == start.station_id,
            Transaction.evse_id == start.evse_id,
            Transaction.started_at == start.started_at,
            Transaction.meter_start_wh == start.meter_start_wh,
            Transaction.id_token == start.id_token,
            Transaction.ocpp_transaction_id == cast(Transaction.id, Text),
        )
    )
    return result.scalar_one_or_none()


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


def _end(
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


def _summary(tx: Transaction) -> dict[str, object]:
    return {
        "transaction_id": tx.id,
        "station_id": tx.station_id,
        "evse_id": tx.evse_id,
        "id_token": tx.id_token,
        "energy_wh": tx.energy_wh,
        "state": str(tx.state),
        "stop_reason": tx.stop_reason,
    }
