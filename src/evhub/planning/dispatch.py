"""Turning a site plan into charging profiles, in an order that keeps the site under its limit.

Limits that go down are sent first and must be accepted before any limit goes up; a station
that refuses or is unreachable keeps its TxDefault allowance, which the next plan accounts for.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from evhub.control import ChargerControl, ChargingLimit, CommandResult, ProfilePurpose
from evhub.errors import StationUnavailable
from evhub.planning.live import EvseInfo, EvseKey, SitePlan

log = logging.getLogger("evhub.planning")

CHANGE_THRESHOLD_KW = 0.1


@dataclass(frozen=True)
class InForce:
    """The limit an EVSE applies as far as evhub knows: TxDefault or one transaction's TxProfile."""

    kind: str  # "default" or "tx:<transaction id>"
    kw: float
    since: datetime | None = None  # when the station accepted it

    def same_as(self, other: InForce | None) -> bool:
        return (
            other is not None
            and other.kind == self.kind
            and abs(other.kw - self.kw) < CHANGE_THRESHOLD_KW
        )


@dataclass(frozen=True)
class Change:
    evse: EvseInfo
    target: InForce
    transaction_id: str | None

    @property
    def key(self) -> EvseKey:
        return self.evse.key


def changes(
    site_plan: SitePlan, in_force: dict[EvseKey, InForce], reachable: frozenset[EvseKey]
) -> tuple[list[Change], list[Change]]:
    """(decreases, increases) needed to go from what is in force to the plan."""
    wanted: list[Change] = []
    for a in site_plan.allocations:
        tx_id = a.running.ocpp_transaction_id
        wanted.append(Change(a.running.evse, InForce(f"tx:{tx_id}", a.limit_kw), tx_id))
    evses = {a.running.evse.key: a.running.evse for a in site_plan.allocations}
    for key, kw in site_plan.idle_allowance_kw.items():
        if key not in reachable:
            continue  # told at its next connection
        wanted.append(Change(_evse_of(site_plan, key, evses), InForce("default", kw), None))
    decreases: list[Change] = []
    increases: list[Change] = []
    for change in wanted:
        current = in_force.get(change.key)
        if change.target.same_as(current):
            continue
        # A new transaction runs at its EVSE's allowance until its first profile.
        before = (
            current.kw if current is not None else site_plan.idle_allowance_kw.get(change.key, 0.0)
        )
        (decreases if change.target.kw < before else increases).append(change)
    return decreases, increases


def _evse_of(site_plan: SitePlan, key: EvseKey, known: dict[EvseKey, EvseInfo]) -> EvseInfo:
    return known.get(key) or EvseInfo(key[0], key[1], "AC", 3, site_plan.idle_allowance_kw[key])


def to_limit(change: Change, now: datetime) -> ChargingLimit:
    evse = change.evse
    return ChargingLimit(
        evse_id=evse.evse_id,
        start=now,
        periods=[(0, change.target.kw)],
        purpose=ProfilePurpose.TX if change.transaction_id else ProfilePurpose.TX_DEFAULT,
        transaction_id=change.transaction_id,
        unit="A" if evse.current_type == "AC" else "W",
        phases=evse.phases if evse.current_type == "AC" else 3,
        stack_level=1 if change.transaction_id else 0,
    )


async def send_all(
    control: ChargerControl, batch: list[Change], now: datetime
) -> list[tuple[Change, bool]]:
    async def one(change: Change) -> tuple[Change, bool]:
        try:
            result: CommandResult = await control.set_charging_limit(
                change.evse.station_id, to_limit(change, now)
            )
        except StationUnavailable as exc:
            log.warning("station=%s evse=%s event=profile_not_sent reason=%s",
                        change.evse.station_id, change.evse.evse_id, exc.message)  # fmt: skip
            return change, False
        if not result.accepted:
            log.warning("station=%s evse=%s event=profile_refused status=%s",
                        change.evse.station_id, change.evse.evse_id, result.status)  # fmt: skip
        return change, result.accepted

    return list(await asyncio.gather(*(one(c) for c in batch)))


async def dispatch(
    control: ChargerControl,
    site_plan: SitePlan,
    in_force: dict[EvseKey, InForce],
    refused: dict[EvseKey, datetime],
    reachable: frozenset[EvseKey],
    now: datetime,
) -> int:
    """Send what changed; returns how many profiles were accepted. Updates `in_force` and
    `refused` (EVSEs whose station refused or could not be reached)."""
    decreases, increases = changes(site_plan, in_force, reachable)
    accepted = 0
    for batch in (decreases, increases):
        failed = False
        for change, ok in await send_all(control, batch, now):
            if ok:
                in_force[change.key] = InForce(change.target.kind, change.target.kw, now)
                accepted += 1
            else:
                refused[change.key] = now
                failed = True
        if failed:
            break  # no increase may rely on a decrease that did not happen
    return accepted
