from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from evhub.clock import AcceleratedClock
from evhub.sim.scenario import EV_MODELS, ScenarioEvent, SessionPlan, generate_day, run_day
from evhub.sim.station import SimEvse, SimStation

from .conftest import FakeCsms

DAY = date(2025, 3, 3)
TOKENS = [f"TOK-{n:02d}" for n in range(12)]


def test_same_seed_same_day() -> None:
    assert generate_day(DAY, TOKENS, seed=7) == generate_day(DAY, TOKENS, seed=7)
    assert generate_day(DAY, TOKENS, seed=7) != generate_day(DAY, TOKENS, seed=8)


def test_visitors_come_by_day_and_residents_stay_overnight() -> None:
    plans = generate_day(DAY, TOKENS, visitors=200, residents=50, seed=3)
    visitors = [p for p in plans if p.kind == "visitor"]
    residents = [p for p in plans if p.kind == "resident"]
    assert (len(visitors), len(residents)) == (200, 50)
    for p in visitors:
        assert 9 <= p.arrival.hour < 20
        stay_h = (p.departure - p.arrival).total_seconds() / 3600
        assert (0.25 <= stay_h <= 0.75) if p.dc else (0.5 <= stay_h <= 3.0)
        assert 0 < p.energy_kwh <= 30
    for p in residents:
        assert 17 <= p.arrival.hour < 22 and not p.dc
        assert p.departure.date() == DAY + timedelta(days=1)
        assert 7 <= p.departure.hour < 9
        assert 0 < p.energy_kwh <= 40
    assert 0.1 < sum(p.dc for p in visitors) / len(visitors) < 0.4
    assert plans == sorted(plans, key=lambda p: p.arrival)


def test_residents_keep_their_tokens_and_visitors_share_the_rest() -> None:
    plans = generate_day(DAY, TOKENS, visitors=20, residents=4, seed=1)
    residents = {p.id_token for p in plans if p.kind == "resident"}
    visitors = {p.id_token for p in plans if p.kind == "visitor"}
    assert residents == set(TOKENS[:4])
    assert visitors <= set(TOKENS[4:])


def test_hours_are_local_to_the_site() -> None:
    paris = ZoneInfo("Europe/Paris")
    plans = generate_day(DAY, TOKENS, visitors=50, residents=0, seed=2, tz=paris)
    assert all(9 <= p.arrival.astimezone(paris).hour < 20 for p in plans)
    assert all(p.arrival.tzinfo == UTC for p in plans)


def test_need_never_exceeds_what_the_battery_can_take() -> None:
    for plan in generate_day(DAY, TOKENS, visitors=100, residents=30, seed=5):
        ev = plan.make_ev()
        assert plan.energy_kwh <= (1 - plan.arrival_soc) * plan.model.battery_kwh + 1e-6
        assert ev.need().energy_kwh == plan.energy_kwh
        assert ev.need().departure == plan.departure
        assert ev.energy_to_target_kwh == pytest.approx(plan.energy_kwh)


def test_no_tokens_is_an_error() -> None:
    with pytest.raises(ValueError):
        generate_day(DAY, [])


def plan(session_id: str, start_min: int, stay_min: int, dc: bool = False) -> SessionPlan:
    arrival = datetime(2025, 3, 3, 9, tzinfo=UTC) + timedelta(minutes=start_min)
    return SessionPlan(
        session_id, "visitor", arrival, arrival + timedelta(minutes=stay_min),
        f"TOK-{session_id}", 10.0, dc, EV_MODELS[1], 0.3,
    )  # fmt: skip


@pytest.mark.parametrize("csms", ["2.0.1"], indirect=True)
async def test_run_day_plugs_in_and_out_on_clock_time(csms: FakeCsms) -> None:
    clock = AcceleratedClock(datetime(2025, 3, 3, 8, 59, tzinfo=UTC), speed=7200)
    station = SimStation(
        "CP-1", "secret", "2.0.1", csms.url, [SimEvse(1), SimEvse(2, dc=True, max_kw=50)],
        clock=clock, meter_interval_s=600,
    )  # fmt: skip
    sessions = [plan("a", 0, 60), plan("b", 10, 5, dc=True), plan("c", 20, 60), plan("d", 25, 5)]
    seen: list[ScenarioEvent] = []

    async def record(event: ScenarioEvent) -> None:
        seen.append(event)

    await station.start()
    try:
        events = await run_day([station], clock, sessions, on_event=record)
    finally:
        await station.stop()
    assert events == seen
    kinds = [(e.kind, e.session.session_id) for e in events]
    assert kinds == [
        ("arrived", "a"), ("arrived", "b"), ("departed", "b"), ("arrived", "c"),
        ("turned_away", "d"), ("departed", "a"), ("departed", "c"),
    ]  # fmt: skip
    assert events[3].evse_id == 2  # an AC driver takes the free DC point
    assert all(e.transaction_id for e in events if e.kind != "turned_away")
    started = [e for e in csms.sent("TransactionEvent") if e["eventType"] == "Started"]
    ended = [e for e in csms.sent("TransactionEvent") if e["eventType"] == "Ended"]
    assert len(started) == len(ended) == 3


@pytest.mark.parametrize("csms", ["1.6"], indirect=True)
async def test_run_day_until_sends_everyone_home(csms: FakeCsms) -> None:
    clock = AcceleratedClock(datetime(2025, 3, 3, 9, tzinfo=UTC), speed=7200)
    station = SimStation("CP-1", "secret", "1.6", csms.url, [SimEvse(1)], clock=clock)
    until = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)
    await station.start()
    try:
        events = await run_day(
            [station], clock, [plan("a", 0, 600), plan("b", 60, 10)], None, until
        )
    finally:
        await station.stop()
    assert [(e.kind, e.session.session_id) for e in events] == [("arrived", "a"), ("departed", "a")]
    assert len(csms.sent("StopTransaction")) == 1
