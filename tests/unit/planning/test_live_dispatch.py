"""Dispatch of a site plan: what changes, in which order, and what a refusal does."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evhub.control import ChargingLimit, CommandResult, ProfilePurpose
from evhub.errors import StationUnavailable
from evhub.planning.charging_limit import limit_kw
from evhub.planning.demand import Need
from evhub.planning.dispatch import InForce, changes, dispatch, to_limit
from evhub.planning.live import (
    Allocation,
    EvseInfo,
    Running,
    SitePlan,
    SiteSnapshot,
    Upcoming,
    allowance_kw,
    car_max_kw,
    limits_in_force,
    plan_site,
)

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
AC1, AC2, DC1 = (
    EvseInfo("A", 1, "AC", 3, 22.0),
    EvseInfo("A", 2, "AC", 3, 22.0),
    EvseInfo("D", 1, "DC", 3, 150.0),
)


def running(
    tx: int, evse: EvseInfo, kwh: float, hours: float, measured: float | None = None
) -> Running:
    need = Need(tx, kwh, NOW + timedelta(hours=hours), "driver", kwh)
    return Running(tx, str(tx), evse, need, measured)


def site_plan(
    limits: dict[int, tuple[Running, float]], idle: dict[tuple[str, int], float]
) -> SitePlan:
    allocations = tuple(Allocation(r, r.evse.max_power_kw, (kw, kw)) for r, kw in limits.values())
    return SitePlan(1, NOW, NOW, 5.0, 100.0, 90.0, "lp", "optimal", 1.0, allocations, idle, {})


class FakeControl:
    """Records the limits sent; refuses for the stations told to."""

    def __init__(self, refuse: set[str] | None = None, offline: set[str] | None = None) -> None:
        self.sent: list[tuple[str, ChargingLimit]] = []
        self.refuse, self.offline = refuse or set(), offline or set()

    def is_connected(self, station_id: str) -> bool:
        return station_id not in self.offline

    async def set_charging_limit(self, station_id: str, limit: ChargingLimit) -> CommandResult:
        if station_id in self.offline:
            raise StationUnavailable("offline")
        self.sent.append((station_id, limit))
        return CommandResult("Rejected" if station_id in self.refuse else "Accepted")


async def test_decreases_go_out_before_increases() -> None:
    a, b = running(1, AC1, 10, 2), running(2, DC1, 10, 2)
    in_force = {AC1.key: InForce("tx:1", 20.0, NOW), DC1.key: InForce("tx:2", 10.0, NOW)}
    control = FakeControl()
    plan = site_plan({1: (a, 5.0), 2: (b, 25.0)}, {})
    sent = await dispatch(control, plan, in_force, set(), frozenset({AC1.key, DC1.key}), NOW)  # type: ignore[arg-type]
    assert sent == 2
    assert [(sid, lim.periods[0][1]) for sid, lim in control.sent] == [("A", 5.0), ("D", 25.0)]
    # What is recorded is what the station was told: 7.2 A on three phases, rounded down.
    assert in_force[AC1.key].kw == limit_kw(control.sent[0][1]) <= 5.0
    assert in_force[DC1.key].kw == 25.0


async def test_refused_decrease_blocks_increases_and_marks_evse() -> None:
    a, b = running(1, AC1, 10, 2), running(2, DC1, 10, 2)
    in_force = {AC1.key: InForce("tx:1", 20.0, NOW), DC1.key: InForce("tx:2", 10.0, NOW)}
    control, refused = FakeControl(refuse={"A"}), {}
    plan = site_plan({1: (a, 5.0), 2: (b, 25.0)}, {})
    await dispatch(control, plan, in_force, refused, frozenset({AC1.key, DC1.key}), NOW)  # type: ignore[arg-type]
    assert refused == {AC1.key: NOW}
    assert [sid for sid, _ in control.sent] == ["A"]  # the increase on D never went out
    assert in_force[DC1.key].kw == 10.0


def test_unchanged_limits_are_not_sent_again() -> None:
    """11.04 kW was told as 15.9 A (10.971 kW); a plan a little above it changes nothing."""
    a = running(1, AC1, 10, 2)
    plan = site_plan({1: (a, 11.04)}, {AC2.key: 1.0})
    in_force = {AC1.key: InForce("tx:1", 10.971, NOW), AC2.key: InForce("default", 1.0, NOW)}
    assert changes(plan, in_force, frozenset({AC1.key, AC2.key})) == ([], [])


class ApplyingStations(FakeControl):
    """Stations that apply each accepted limit at once; `peak_kw` is the most the site's EVSEs
    were allowed together at any moment."""

    def __init__(self, applied: dict[tuple[str, int], float]) -> None:
        super().__init__()
        self.applied = dict(applied)
        self.peak_kw = sum(self.applied.values())

    async def set_charging_limit(self, station_id: str, limit: ChargingLimit) -> CommandResult:
        self.applied[(station_id, limit.evse_id)] = limit_kw(limit)
        self.peak_kw = max(self.peak_kw, sum(self.applied.values()))
        return await super().set_charging_limit(station_id, limit)


async def test_a_limit_going_down_a_little_is_sent_before_its_power_goes_elsewhere() -> None:
    """30 kW site, two idle EVSEs at their allowance, two cars sharing the rest in amperes.
    A re-plan moves 0.097 kW from one car to the other: the step down is under the change
    threshold, the step up is not. Left as it is, the first car keeps 14.9 A while the second
    goes up to 26.4 A: 30.015 kW allowed under a 30 kW limit."""
    idle1, idle2 = EvseInfo("CP-16", 1, "AC", 3, 22.0), EvseInfo("CP-16", 2, "AC", 3, 22.0)
    ev1, ev2 = EvseInfo("CP-201", 1, "AC", 3, 22.0), EvseInfo("CP-201", 2, "AC", 3, 22.0)
    a, b = running(1, ev1, 4, 1), running(2, ev2, 4, 1)
    in_force = {  # as told: 1.1 A, 1.1 A, 14.9 A, 26.2 A on three phases at 230 V
        idle1.key: InForce("default", 0.759, NOW), idle2.key: InForce("default", 0.759, NOW),
        ev1.key: InForce("tx:1", 10.281, NOW), ev2.key: InForce("tx:2", 18.078, NOW),
    }  # fmt: skip
    allocations = (Allocation(a, 22.0, (10.184,)), Allocation(b, 22.0, (18.216,)))
    plan = SitePlan(1, NOW, NOW, 5.0, 30.0, 26.8, "lp", "optimal", 1.0, allocations,
                    {idle1.key: 0.8, idle2.key: 0.8}, {})  # fmt: skip
    assert sum(a.limit_kw for a in allocations) + 0.8 + 0.8 <= 30.0
    stations = ApplyingStations({k: v.kw for k, v in in_force.items()})
    reachable = frozenset(in_force)
    await dispatch(stations, plan, in_force, {}, reachable, NOW)
    assert stations.peak_kw <= 30.0
    assert [(sid, lim.evse_id) for sid, lim in stations.sent] == [ev1.key, ev2.key]
    assert all(in_force[x.running.evse.key].kw <= x.limit_kw for x in allocations)


def test_idle_evse_of_an_offline_station_is_not_addressed() -> None:
    plan = site_plan({}, {AC1.key: 1.0, DC1.key: 1.0})
    decreases, increases = changes(plan, {}, frozenset({DC1.key}))
    assert [c.key for c in decreases + increases] == [DC1.key]


def test_ac_limits_go_in_amperes_per_phase_dc_in_watts() -> None:
    plan = site_plan({1: (running(1, AC1, 10, 2), 11.04), 2: (running(2, DC1, 10, 2), 50.0)}, {})
    _, increases = changes(plan, {}, frozenset({AC1.key, DC1.key}))
    limits = {c.key: to_limit(c, NOW) for c in increases}
    assert (limits[AC1.key].unit, limits[AC1.key].value_in_unit(11.04)) == ("A", 16.0)
    assert (limits[DC1.key].unit, limits[DC1.key].value_in_unit(50.0)) == ("W", 50000.0)
    assert limits[AC1.key].purpose == ProfilePurpose.TX and limits[AC1.key].transaction_id == "1"


@settings(max_examples=40, deadline=None)
@given(
    before=st.lists(st.integers(800, 21_000), min_size=4, max_size=4),
    steps=st.lists(st.integers(-300, 300), min_size=4, max_size=4),
)
async def test_a_dispatch_never_allows_more_than_before_it_or_after_it(
    before: list[int], steps: list[int]
) -> None:
    """Whatever the limits in force and the re-plan (watts, steps on either side of the change
    threshold), at every moment of a dispatch the EVSEs are allowed no more than before it
    began or than the plan gives them."""
    evses = [EvseInfo("S", n, "DC", 3, 22.0) for n in (1, 2, 3, 4)]
    targets = [w + step for w, step in zip(before, steps, strict=True)]
    in_force = {e.key: InForce(f"tx:{n}", w / 1000, NOW) for n, (e, w) in enumerate(
        zip(evses, before, strict=True))}  # fmt: skip
    allocations = tuple(
        Allocation(running(n, e, 4, 1), 22.0, (w / 1000,))
        for n, (e, w) in enumerate(zip(evses, targets, strict=True))
    )
    plan = SitePlan(1, NOW, NOW, 5.0, 100.0, 100.0, "lp", "optimal", 1.0, allocations, {}, {})
    stations = ApplyingStations({k: v.kw for k, v in in_force.items()})
    await dispatch(stations, plan, in_force, {}, frozenset(in_force), NOW)
    assert stations.peak_kw <= max(sum(before), sum(targets)) / 1000 + 1e-6


def snapshot(
    rs: list[Running], evses: list[EvseInfo], controllable: set[tuple[str, int]], limit: float
) -> SiteSnapshot:
    return SiteSnapshot(
        1, limit, "Europe/Paris", NOW, tuple(evses), tuple(rs), frozenset(controllable)
    )


def test_a_car_leaving_under_its_allowance_cannot_push_the_site_over() -> None:
    """A nearly full car may get less than a TxDefault allowance; when it leaves, its EVSE
    goes back to that allowance. Limits in force before and after must both fit."""
    nearly_full = running(1, AC1, 0.05, 2)
    hungry = running(2, AC2, 40.0, 2)
    snap = snapshot([nearly_full, hungry], [AC1, AC2], {AC1.key, AC2.key}, 22.0)
    p = plan_site(snap, {})
    limits = {a.running.tx_pk: a.limit_kw for a in p.allocations}
    after_leaving = allowance_kw(snap, AC1) + limits[2]
    assert limits[1] + limits[2] <= 22.0 + 1e-6
    assert after_leaving <= 22.0 + 1e-6


def test_unreachable_station_counts_at_the_limit_it_was_last_told() -> None:
    rs = [running(1, AC1, 30, 1), running(2, DC1, 60, 1)]
    snap = replace(
        snapshot(rs, [AC1, DC1], {AC1.key}, 50.0), known_kw={DC1.key: 20.0, AC1.key: 5.0}
    )
    p = plan_site(snap, {})
    assert p.uncontrolled_kw == {DC1.key: 20.0}
    assert limits_in_force(p) <= 50.0 + 1e-9
    assert p.allocations[0].limit_kw == pytest.approx(22.0)  # 50 - 20 held leaves enough


def test_site_limit_holds_with_allowances_and_an_uncontrolled_station() -> None:
    """Planned limits + idle allowances + what an unreachable station may draw <= the limit."""
    rs = [running(1, AC1, 30, 1), running(2, DC1, 60, 1)]
    snap = snapshot(rs, [AC1, AC2, DC1], {AC1.key, AC2.key}, 50.0)
    snap = replace(snap, known_kw={DC1.key: allowance_kw(snap, DC1)})  # told its TxDefault
    p = plan_site(snap, {})
    assert [a.running.tx_pk for a in p.allocations] == [1]  # DC1's station is unreachable
    assert p.uncontrolled_kw == {DC1.key: allowance_kw(snap, DC1)}
    assert p.idle_allowance_kw == {AC2.key: allowance_kw(snap, AC2)}
    assert limits_in_force(p) <= 50.0 + 1e-9
    assert p.allocations[0].limit_kw == 22.0  # the one planned car may take its EVSE's maximum


def test_an_unreachable_evse_never_told_anything_counts_at_its_rating() -> None:
    rs = [running(1, AC1, 30, 1), running(2, AC2, 30, 1)]
    snap = snapshot(rs, [AC1, AC2], {AC1.key}, 30.0)
    p = plan_site(snap, {})
    assert p.uncontrolled_kw == {AC2.key: 22.0}
    assert limits_in_force(p) <= 30.0 + 1e-9


def test_needs_shared_when_the_limit_is_tight() -> None:
    # Leaving in 65 minutes: the plan means to finish a slot early, so it has one hour.
    rs = [running(1, AC1, 11, 65 / 60), running(2, AC2, 11, 65 / 60)]
    p = plan_site(snapshot(rs, [AC1, AC2], {AC1.key, AC2.key}, 22.0), {})
    # Each car may draw its EVSE's allowance on top of its share: offered at least its need.
    offered = [sum(a.power_kw[:12]) * 5 / 60 for a in p.allocations]
    assert all(11.0 - 0.05 <= kwh <= 11.0 + 1.1 + 0.05 for kwh in offered), offered
    assert (
        max(sum(col) for col in zip(*(a.power_kw for a in p.allocations), strict=True))
        <= 22.0 + 1e-6
    )


def test_closed_loop_hands_a_tapering_cars_power_to_others() -> None:
    tapering = running(1, AC1, 5, 4, measured=3.0)
    assert 3.0 < car_max_kw(tapering, previous_limit_kw=11.0) < 5.5
    assert car_max_kw(running(2, AC2, 5, 4, measured=10.8), previous_limit_kw=11.0) == 22.0
    assert car_max_kw(running(3, AC2, 5, 4, measured=None), previous_limit_kw=11.0) == 22.0


@pytest.mark.parametrize("draw_kw", [1.0, 3.0, 7.4, 11.04, 16.0])
def test_a_car_drawing_the_same_keeps_the_same_cap_plan_after_plan(draw_kw: float) -> None:
    """A cap must not swing between the car's draw and the EVSE's maximum at every plan (each
    swing a profile for it and for the cars sharing the site)."""
    car = running(1, AC2, 30, 4, measured=draw_kw)
    limit = 22.0
    caps = []
    for _ in range(4):
        limit = car_max_kw(car, previous_limit_kw=limit)
        caps.append(limit)
    assert caps[1:] == [caps[0]] * 3 and draw_kw < caps[0] < 22.0, caps


def test_a_capped_car_drawing_up_to_its_cap_gets_the_maximum_back() -> None:
    cap = car_max_kw(running(1, AC2, 30, 4, measured=7.0), previous_limit_kw=22.0)
    assert car_max_kw(running(1, AC2, 30, 4, measured=cap * 0.98), previous_limit_kw=cap) == 22.0


def test_power_is_kept_for_a_booked_car_before_it_arrives() -> None:
    """A booking due in an hour needs nearly all the limit then: the car charging now must not
    count on it, and takes its energy before the booked car arrives."""
    now_car = running(1, AC1, 11.0, 3)
    booked = Upcoming(9, AC2, 18.0, NOW + timedelta(hours=1), NOW + timedelta(minutes=125))
    snap = SiteSnapshot(1, 22.0, "Europe/Paris", NOW, (AC1, AC2), (now_car,),
                        frozenset({AC1.key, AC2.key}), (booked,))  # fmt: skip
    p = plan_site(snap, {})
    [(session_id, kept)] = p.reserved
    assert session_id == "booking:9"
    assert sum(kept) * 5 / 60 == pytest.approx(18.0, abs=0.05)
    offered_first_hour = sum(p.allocations[0].power_kw[:12]) * 5 / 60
    assert offered_first_hour >= 11.0 - 0.05
    # what the car charging now is offered beyond its need is spare: never the booked car's
    for k, kept_kw in enumerate(kept):
        allowance_of_booked_evse = p.idle_allowance_kw.get(AC2.key, 0.0)
        assert p.allocations[0].power_kw[k] + kept_kw + allowance_of_booked_evse <= 22.0 + 1e-3


async def test_a_car_there_before_the_first_plan_leaves_its_evse_at_the_allowance() -> None:
    """A car already charging when its site is first planned gets its TxProfile, and its
    EVSE the TxDefault the plan counts for the next car, told first (it lowers nothing the
    car may draw): without it the next car would start at the EVSE's rating."""
    snap = snapshot([running(1, AC1, 30, 2)], [AC1, AC2], {AC1.key, AC2.key}, 30.0)
    p = plan_site(snap, {})
    allowance = allowance_kw(snap, AC1)
    assert p.busy_allowance_kw == {AC1.key: allowance}
    decreases, increases = changes(p, {}, frozenset({AC1.key, AC2.key}))
    assert [(c.key, c.target.kind) for c in decreases] == [(AC1.key, "default")]
    assert {(c.key, c.target.kind) for c in increases} == {(AC1.key, "tx:1"), (AC2.key, "default")}
    control: FakeControl = ApplyingStations({})
    in_force: dict[tuple[str, int], InForce] = {}
    await dispatch(control, p, in_force, {}, frozenset({AC1.key, AC2.key}), NOW)
    told = [(lim.evse_id, lim.purpose) for sid, lim in control.sent if sid == "A"]
    assert told[0] == (1, ProfilePurpose.TX_DEFAULT)
    assert in_force[AC1.key].kind == "tx:1"
    assert in_force[AC1.key].fallback_kw == pytest.approx(allowance, abs=0.1)
    assert changes(p, in_force, frozenset({AC1.key, AC2.key})) == ([], [])


async def test_a_txdefault_told_under_a_car_keeps_the_cars_own_limit() -> None:
    """A TxDefault told later (a station that had refused it) moves only the fallback of
    the EVSE's entry: the car's TxProfile stays in force, and is not sent again."""
    snap = snapshot([running(1, AC1, 30, 2)], [AC1], {AC1.key}, 30.0)
    p = plan_site(snap, {})
    car_kw = limit_kw(to_limit(changes(p, {}, frozenset({AC1.key}))[1][0], NOW))
    in_force = {AC1.key: InForce("tx:1", car_kw, NOW, None, 22.0, "A")}
    decreases, increases = changes(p, in_force, frozenset({AC1.key}))
    assert [(c.target.kind, c.under_car) for c in decreases + increases] == [("default", True)]
    await dispatch(FakeControl(), p, in_force, {}, frozenset({AC1.key}), NOW)
    assert (in_force[AC1.key].kind, in_force[AC1.key].kw) == ("tx:1", car_kw)
    assert in_force[AC1.key].fallback_kw == pytest.approx(allowance_kw(snap, AC1), abs=0.1)
    assert changes(p, in_force, frozenset({AC1.key})) == ([], [])
    # Unreachable, it is told at its next connection, like an idle EVSE.
    in_force[AC1.key] = InForce("tx:1", car_kw, NOW, None, 22.0, "A")
    assert changes(p, in_force, frozenset()) == ([], [])
