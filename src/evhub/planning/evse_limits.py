"""What each EVSE was last told, kept in the database so that it outlives the process.

The planner's `in_force` is a cache of this table: rebuilt from it at start-up, written through
it on every send, in the order intent (unanswered) -> commit -> station call -> answer, and never
with a station call inside a database transaction (like `reservations/charger.py`).

What an EVSE counts for while evhub cannot tell it anything (OCPP 1.6 §3.13.1, 2.0.1 K01: a
TxProfile beats the TxDefaultProfile; a station keeps its profiles while offline):
* an acknowledged limit counts as told, until its validity ends: then its fallback (TxDefault);
* a refused limit counts as what was in force before it;
* an unanswered one at the higher of the old and the new limit;
* nothing known at all: the EVSE's rating.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.assets.models import Evse, Station
from evhub.charging.models import Transaction
from evhub.control import ChargingLimit, ProfilePurpose
from evhub.planning.models import EvseLimit
from evhub.uow import UnitOfWork

EvseKey = tuple[str, int]
CHANGE_THRESHOLD_KW = 0.1  # a limit that may go up by less than this is not sent again
ROUNDING_KW = 1e-6  # what a limit told back in kW may differ from the value it came from


@dataclass(frozen=True)
class InForce:
    """The limit an EVSE applies as far as evhub knows: TxDefault or one transaction's TxProfile.

    `kind` is "default", "tx:<transaction id>", or "unknown" (to be told again: counted at
    `kw` meanwhile). After `valid_until` the station applies `fallback_kw` (its TxDefault)."""

    kind: str
    kw: float
    since: datetime | None = None  # when the station accepted it
    valid_until: datetime | None = None
    fallback_kw: float | None = None
    unit: str | None = None  # "A" or "W", as it was told

    def may_stay_for(self, target: InForce) -> bool:
        """Whether this limit may be left in force where the plan wants `target`: the same
        kind, below it by less than the threshold, and never above it. A limit that must go
        down is sent however small the step: the plan has already given the power it frees
        to another EVSE, whose increase would otherwise take the site over its limit."""
        return self.kind == target.kind and (
            -ROUNDING_KW <= target.kw - self.kw < CHANGE_THRESHOLD_KW
        )

    @property
    def falls_back_to_kw(self) -> float | None:
        """What the EVSE applies once its car leaves or its TxProfile ends, where known."""
        return self.kw if self.kind == "default" else self.fallback_kw

    def counted_kw(self, now: datetime) -> float:
        """What the EVSE may draw at `now` by what it was told."""
        if self.valid_until is not None and now >= self.valid_until:
            return self.fallback_kw if self.fallback_kw is not None else self.kw
        return self.kw


class InForceTable(dict[EvseKey, InForce]):
    """What each EVSE was told, with its keys by station: a station's entries are read at
    each of its (re)connections and a site's at each plan, which a scan of the whole table
    made one pass over every EVSE each (at 5,000 stations, 2.6 % of a reconnection storm).
    Only the mutators below are used on it; the others would leave the index behind."""

    def __init__(self, entries: Mapping[EvseKey, InForce] | None = None) -> None:
        super().__init__()
        self._by_station: dict[str, set[int]] = {}
        for key, value in (entries or {}).items():
            self[key] = value

    def __setitem__(self, key: EvseKey, value: InForce) -> None:
        super().__setitem__(key, value)
        self._by_station.setdefault(key[0], set()).add(key[1])

    def __delitem__(self, key: EvseKey) -> None:
        super().__delitem__(key)
        self._unindex(key)

    def pop(self, key: EvseKey, *default: InForce | None) -> InForce | None:  # type: ignore[override]
        if key in self:
            self._unindex(key)
        return super().pop(key, *default)

    def update(self, *args: object, **kwargs: object) -> None:
        raise TypeError("set InForceTable entries one at a time (the index follows them)")

    def keys_of(self, station_ids: Iterable[str]) -> list[EvseKey]:
        """The keys of these stations' EVSEs."""
        by_station = self._by_station
        return [(sid, evse) for sid in station_ids for evse in by_station.get(sid, ())]

    def _unindex(self, key: EvseKey) -> None:
        evses = self._by_station.get(key[0])
        if evses is not None:
            evses.discard(key[1])
            if not evses:
                del self._by_station[key[0]]


@dataclass(frozen=True)
class Told:
    """One limit about to be sent, with what it replaces (for counting while unanswered)."""

    station_id: str
    limit: ChargingLimit
    limit_kw: float
    previous_kw: float | None

    @property
    def key(self) -> EvseKey:
        return (self.station_id, self.limit.evse_id)


# Sites dispatch at once: so many of their journal writes at a time, the others wait their turn
# rather than take every connection of the pool.
MAX_CONCURRENT_WRITES = 4


class LimitJournal:
    """Reads and writes `evse_limits`, each write in its own committed unit of work."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self._writes = asyncio.Semaphore(MAX_CONCURRENT_WRITES)

    async def intents(self, told: Iterable[Told], now: datetime) -> None:
        told = list(told)
        async with self._writes, self.uow() as session:
            rows = await _rows_of(session, told)
            for t in told:
                row = rows.get(_pk(t))
                if row is None:
                    row = EvseLimit(
                        station_id=t.station_id, evse_id=t.limit.evse_id, purpose=_pk(t)[2]
                    )
                    session.add(row)
                row.transaction_id = t.limit.transaction_id
                row.limit_value = t.limit.value_in_unit(t.limit.periods[0][1])
                row.unit, row.limit_kw, row.previous_kw = t.limit.unit, t.limit_kw, t.previous_kw
                row.valid_until, row.sent_at = t.limit.valid_to, now
                row.status, row.answered_at = "unknown", None

    async def answers(self, answered: Iterable[tuple[Told, str]], now: datetime) -> None:
        """`status` is "accepted", "refused" or "unknown" (no answer came)."""
        answered = list(answered)
        async with self._writes, self.uow() as session:
            rows = await _rows_of(session, [t for t, _ in answered])
            for t, status in answered:
                row = rows.get(_pk(t))
                if row is not None:
                    row.status = status
                    row.answered_at = None if status == "unknown" else now

    async def rebuild(self, now: datetime) -> InForceTable:
        """The in-force cache after a restart: every entry "unknown" (each station is told
        again when reachable, decreases first), counted by the rules of this module."""
        async with self.uow() as session:
            return InForceTable(await in_force_from_table(session, now))


def _pk(t: Told) -> tuple[str, int, str]:
    return (t.station_id, t.limit.evse_id, str(t.limit.purpose))


async def _rows_of(
    session: AsyncSession, told: list[Told]
) -> dict[tuple[str, int, str], EvseLimit]:
    """The rows of a batch in one query (a site's stations, then filtered here)."""
    stations = {t.station_id for t in told}
    rows = await session.scalars(select(EvseLimit).where(EvseLimit.station_id.in_(stations)))
    return {(r.station_id, r.evse_id, r.purpose): r for r in rows}


async def in_force_from_table(session: AsyncSession, now: datetime) -> dict[EvseKey, InForce]:
    rows = list(await session.scalars(select(EvseLimit)))
    if not rows:
        return {}
    ratings = {
        (sid, evse): kw
        for sid, evse, kw in await session.execute(
            select(Evse.station_id, Evse.evse_id, Evse.max_power_kw).join(
                Station, Station.id == Evse.station_id
            )
        )
    }
    active = {
        (sid, evse): tx
        for sid, evse, tx in await session.execute(
            select(
                Transaction.station_id, Transaction.evse_id, Transaction.ocpp_transaction_id
            ).where(Transaction.state == "active")
        )
    }
    return rebuild_in_force(rows, ratings, active, now)


def rebuild_in_force(
    rows: Iterable[EvseLimit],
    ratings: Mapping[EvseKey, float],
    active: Mapping[EvseKey, str],
    now: datetime,
) -> dict[EvseKey, InForce]:
    """Pure: per EVSE, the TxProfile of its running transaction if there is one, else its
    TxDefault, each counted as described at the top of this module."""
    by_key: dict[EvseKey, dict[str, EvseLimit]] = {}
    for row in rows:
        by_key.setdefault((row.station_id, row.evse_id), {})[row.purpose] = row
    result: dict[EvseKey, InForce] = {}
    for key, told in by_key.items():
        rating = ratings.get(key)
        if rating is None:
            continue  # the EVSE is gone
        default = told.get(str(ProfilePurpose.TX_DEFAULT))
        default_kw = _counted(default, rating)
        tx_row = told.get(str(ProfilePurpose.TX))
        tx_id = active.get(key)
        if tx_row is not None and tx_id is not None and tx_row.transaction_id == tx_id:
            kw = _counted(tx_row, default_kw)
            result[key] = InForce("unknown", kw, None, tx_row.valid_until, default_kw, tx_row.unit)
        elif default is not None or tx_id is not None:
            result[key] = InForce("unknown", default_kw, None, None, default_kw)
    return result


def _counted(row: EvseLimit | None, otherwise_kw: float) -> float:
    """A row's worth: as told when accepted; what came before it when refused; the higher of
    the two while unanswered. `otherwise_kw` stands in for "before" when that is unknown."""
    if row is None:
        return otherwise_kw
    before = row.previous_kw if row.previous_kw is not None else otherwise_kw
    if row.status == "accepted":
        return row.limit_kw
    if row.status == "refused":
        return before
    return max(row.limit_kw, before)
