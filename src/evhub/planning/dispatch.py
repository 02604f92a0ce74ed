"""Turning a site plan into charging profiles, in an order that keeps the site under its limit.

Limits that go down, however little, are sent first and must be accepted before any limit goes
up (only a small step up is left unsent); a station that refuses or is unreachable keeps what
it had, which the next plan accounts for. A limit goes below zero (the car feeds the grid) only
for a transaction whose need allows it (`v2x_needs`: an OCPP 2.1 station, a bidirectional car,
the driver's consent). Each batch is recorded in `evse_limits` before it is sent and again with
the answers (`LimitJournal`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from evhub.control import ChargerControl, ChargingLimit
from evhub.errors import StationUnavailable
from evhub.planning.charging_limit import build_limit, limit_kw, rate_unit
from evhub.planning.evse_limits import InForce, LimitJournal, Told
from evhub.planning.live import EvseInfo, EvseKey, SitePlan

__all__ = ["Change", "InForce", "changes", "dispatch", "to_limit"]

log = logging.getLogger("evhub.planning")


@dataclass(frozen=True)
class Change:
    evse: EvseInfo
    target: InForce
    transaction_id: str | None
    min_kw: float = 0.0  # below zero: the car may feed the grid down to this
    under_car: bool = False  # a TxDefault for the next car, told while one charges

    @property
    def key(self) -> EvseKey:
        return self.evse.key


def changes(
    site_plan: SitePlan,
    in_force: dict[EvseKey, InForce],
    reachable: frozenset[EvseKey],
    renew_before: datetime | None = None,
) -> tuple[list[Change], list[Change]]:
    """(decreases, increases) needed to go from what is in force to the plan; a limit whose
    validity ends before `renew_before` is sent again even if unchanged.

    An EVSE with a car whose TxDefault is not known to be its allowance (its car was there
    before the first plan) is told it first: a TxProfile outranks it while the car charges
    (OCPP 1.6 §3.13.1, 2.0.1 K01), and the next car then starts at the allowance the plan
    counts, not at the EVSE's rating."""
    defaults = [
        Change(a.running.evse, InForce("default", kw), None, under_car=True)
        for a in site_plan.allocations
        for key in (a.running.evse.key,)
        for kw in (site_plan.busy_allowance_kw.get(key),)
        if kw is not None and key in reachable and not _default_known(in_force.get(key), kw)
    ]
    wanted: list[Change] = []
    for a in site_plan.allocations:
        tx_id = a.running.ocpp_transaction_id
        target = InForce(f"tx:{tx_id}", max(a.limit_kw, a.min_power_kw))
        wanted.append(Change(a.running.evse, target, tx_id, a.min_power_kw))
    evses = {a.running.evse.key: a.running.evse for a in site_plan.allocations}
    for key, kw in site_plan.idle_allowance_kw.items():
        if key not in reachable:
            continue  # told at its next connection
        wanted.append(Change(_evse_of(site_plan, key, evses), InForce("default", kw), None))
    decreases: list[Change] = defaults  # they lower no draw: what they replace is a rating
    increases: list[Change] = []
    for change in wanted:
        current = in_force.get(change.key)
        if (
            current is not None
            and current.may_stay_for(change.target)
            and not _expiring(current, renew_before)
            and not _other_unit(current, change.evse)
        ):
            continue
        # A new transaction runs at its EVSE's allowance until its first profile.
        before = (
            current.kw if current is not None else site_plan.idle_allowance_kw.get(change.key, 0.0)
        )
        (decreases if change.target.kw < before else increases).append(change)
    return decreases, increases


def _default_known(current: InForce | None, kw: float) -> bool:
    """Whether the EVSE is known to fall back to a TxDefault of `kw` once its car leaves."""
    fallback = None if current is None else current.falls_back_to_kw
    return fallback is not None and InForce("default", fallback).may_stay_for(
        InForce("default", kw)
    )


def _expiring(current: InForce | None, renew_before: datetime | None) -> bool:
    return (
        current is not None
        and current.valid_until is not None
        and renew_before is not None
        and current.valid_until <= renew_before
    )


def _other_unit(current: InForce | None, evse: EvseInfo) -> bool:
    """Told in a unit the station does not take (or no longer the one for this EVSE)."""
    return current is not None and current.unit is not None and current.unit != rate_unit(evse)


def _evse_of(site_plan: SitePlan, key: EvseKey, known: dict[EvseKey, EvseInfo]) -> EvseInfo:
    evse = site_plan.evses.get(key) or known.get(key)
    if evse is None:  # a plan built without its EVSEs (tests): the allowance as rating
        return EvseInfo(key[0], key[1], "AC", 3, site_plan.idle_allowance_kw[key])
    return evse


def to_limit(change: Change, now: datetime, validity_s: float | None = None) -> ChargingLimit:
    return build_limit(
        change.evse, change.target.kw, now, change.transaction_id, validity_s, change.min_kw
    )


def _told(change: Change, current: InForce | None, limit: ChargingLimit, now: datetime) -> Told:
    previous = None if current is None else current.counted_kw(now)
    return Told(change.evse.station_id, limit, limit_kw(limit), previous)


async def send_all(
    control: ChargerControl, batch: list[tuple[Change, Told]]
) -> list[tuple[Change, Told, str]]:
    """Each change with its outcome: "accepted", "refused", or "unknown" (no answer)."""

    async def one(change: Change, told: Told) -> tuple[Change, Told, str]:
        try:
            result = await control.set_charging_limit(change.evse.station_id, told.limit)
        except StationUnavailable as exc:
            log.warning("station=%s evse=%s event=profile_not_sent reason=%s",
                        change.evse.station_id, change.evse.evse_id, exc.message)  # fmt: skip
            return change, told, "unknown"
        if not result.accepted:
            log.warning("station=%s evse=%s event=profile_refused status=%s",
                        change.evse.station_id, change.evse.evse_id, result.status)  # fmt: skip
        return change, told, "accepted" if result.accepted else "refused"

    return list(await asyncio.gather(*(one(c, t) for c, t in batch)))


def _fallback(change: Change, current: InForce | None) -> float:
    """What the EVSE applies once a TxProfile ends: its TxDefault, as far as evhub knows."""
    if change.transaction_id is None:
        return change.target.kw
    fallback = None if current is None else current.falls_back_to_kw
    return fallback if fallback is not None else change.evse.max_power_kw


async def dispatch(
    control: ChargerControl,
    site_plan: SitePlan,
    in_force: dict[EvseKey, InForce],
    refused: dict[EvseKey, datetime],
    reachable: frozenset[EvseKey],
    now: datetime,
    journal: LimitJournal | None = None,
    validity_s: float | None = None,
) -> int:
    """Send what changed; returns how many profiles were accepted. Updates `in_force` and
    `refused` (EVSEs whose station refused or could not be reached)."""
    renew = now + timedelta(seconds=validity_s / 2) if validity_s else None
    decreases, increases = changes(site_plan, in_force, reachable, renew)
    accepted = 0
    for batch in (decreases, increases):
        if not batch:
            continue
        told = [
            (c, _told(c, in_force.get(c.key), to_limit(c, now, validity_s), now)) for c in batch
        ]
        if journal is not None:
            await journal.intents((t for _, t in told), now)
        outcomes = await send_all(control, told)
        if journal is not None:
            await journal.answers(((t, status) for _, t, status in outcomes), now)
        failed = False
        for change, t, status in outcomes:
            current = in_force.get(change.key)
            if (
                status == "accepted"
                and change.under_car
                and current is not None
                and current.kind != "default"
            ):
                # The car keeps its own limit: only what its EVSE falls back to moved.
                in_force[change.key] = replace(current, fallback_kw=t.limit_kw)
                accepted += 1
                continue
            if status == "accepted":
                in_force[change.key] = InForce(
                    change.target.kind,
                    t.limit_kw,
                    now,
                    t.limit.valid_to,
                    _fallback(change, current),
                    t.limit.unit,
                )
                accepted += 1
                continue
            refused[change.key] = now
            failed = True
            if status == "unknown":  # it may have arrived: count the higher of the two
                before = t.previous_kw if t.previous_kw is not None else change.evse.max_power_kw
                in_force[change.key] = InForce(
                    "unknown", max(before, t.limit_kw), None, t.limit.valid_to,
                    _fallback(change, current), t.limit.unit,
                )  # fmt: skip
        if failed:
            break  # no increase may rely on a decrease that did not happen
    return accepted
