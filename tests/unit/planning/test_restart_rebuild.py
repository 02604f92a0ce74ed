"""After a restart the planner's in-force cache comes back from `evse_limits`, counted so that
an EVSE out of reach is never taken for less than it may be applying."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from evhub.assets import service as assets
from evhub.charging.models import Transaction
from evhub.control import ChargingLimit, ProfilePurpose
from evhub.db import create_engine, session_factory
from evhub.ocpp.v16.commands import V16Payloads
from evhub.ocpp.v201.commands import V201Payloads
from evhub.planning.charging_limit import build_limit, limit_kw
from evhub.planning.evse_limits import LimitJournal, Told, rebuild_in_force
from evhub.planning.live import EvseInfo
from evhub.planning.models import EvseLimit
from evhub.sim.profiles import EvseContext, evse_limit_kw, profile_from_v16, profile_from_v201
from evhub.uow import UnitOfWork

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
RATINGS = {("A", 1): 22.0, ("B", 1): 22.0, ("C", 1): 22.0, ("D", 1): 22.0, ("E", 1): 22.0}


def row(
    station: str,
    purpose: str,
    kw: float,
    status: str,
    previous: float | None = None,
    tx: str | None = None,
    valid_until: datetime | None = None,
) -> EvseLimit:
    return EvseLimit(
        station_id=station, evse_id=1, purpose=purpose, transaction_id=tx, limit_value=kw,
        unit="W", limit_kw=kw, previous_kw=previous, valid_until=valid_until,
        sent_at=NOW, status=status,
    )  # fmt: skip


TX, DEFAULT = "TxProfile", "TxDefaultProfile"


def test_each_evse_counts_at_what_it_may_be_applying() -> None:
    later = NOW + timedelta(minutes=10)
    rows = [
        row("A", DEFAULT, 1.0, "accepted"),
        row("A", TX, 18.0, "accepted", 1.0, tx="t-a", valid_until=later),
        row("B", DEFAULT, 1.0, "accepted"),
        row("B", TX, 16.0, "unknown", 10.0, tx="t-b"),  # an increase left unanswered
        row("C", DEFAULT, 1.0, "accepted"),
        row("C", TX, 4.0, "refused", 12.0, tx="t-c"),  # refused: what it had before
        row("D", TX, 5.0, "unknown", None, tx="t-d"),  # nothing known before: its rating
        row("E", DEFAULT, 1.0, "accepted"),
        row("E", TX, 9.0, "accepted", 1.0, tx="an ended one"),
    ]
    active = {("A", 1): "t-a", ("B", 1): "t-b", ("C", 1): "t-c", ("D", 1): "t-d", ("E", 1): "t-e"}
    cache = rebuild_in_force(rows, RATINGS, active, NOW)
    assert {k: v.counted_kw(NOW) for k, v in cache.items()} == {
        ("A", 1): 18.0,
        ("B", 1): 16.0,
        ("C", 1): 12.0,
        ("D", 1): 22.0,
        ("E", 1): 1.0,  # its TxProfile was for another transaction: the TxDefault applies
    }
    # Every station is told again once reachable: nothing is taken as in force as it is.
    assert {v.kind for v in cache.values()} == {"unknown"}
    # At its validity a TxProfile ends, and the EVSE falls back to its TxDefault.
    assert cache[("A", 1)].counted_kw(later) == 1.0


def test_an_evse_that_is_gone_or_never_told_is_left_out() -> None:
    rows = [row("Z", DEFAULT, 1.0, "accepted"), row("A", DEFAULT, 2.0, "accepted")]
    assert set(rebuild_in_force(rows, RATINGS, {}, NOW)) == {("A", 1)}


def test_the_builder_rounds_down_caps_and_gives_a_validity() -> None:
    ac = EvseInfo("A", 1, "AC", 3, 22.0, cap_kw=7.0)
    limit = build_limit(ac, 11.0, NOW, "t-1", validity_s=600)
    assert (limit.unit, limit.value_in_unit(limit.periods[0][1])) == ("A", 10.1)
    assert limit_kw(limit) <= 7.0 and limit.valid_to == NOW + timedelta(minutes=10)
    assert limit.purpose == ProfilePurpose.TX
    dc = build_limit(EvseInfo("D", 1, "DC", 3, 150.0), 30.0, NOW)
    assert (dc.unit, dc.purpose, dc.valid_to) == ("W", ProfilePurpose.TX_DEFAULT, None)
    only_power = EvseInfo("A", 1, "AC", 3, 22.0, allowed_units="Power")
    assert build_limit(only_power, 5.0, NOW).unit == "W"


def _on_station(limit: ChargingLimit) -> tuple[float | None, float | None]:
    """The limit as each simulated station version applies it, before and after validTo."""
    assert limit.valid_to is not None
    p16 = V16Payloads().set_charging_limit(limit)
    p201 = V201Payloads().set_charging_limit(limit)
    profiles = [
        profile_from_v16(p16.connector_id, p16.cs_charging_profiles, NOW),
        profile_from_v201(p201.evse_id, p201.charging_profile, NOW),
    ]
    evse = EvseContext(1, 22.0, transaction_id="7", transaction_start=NOW)
    before = {evse_limit_kw([p], evse, NOW + timedelta(seconds=1)) for p in profiles}
    after = {evse_limit_kw([p], evse, limit.valid_to) for p in profiles}
    assert len(before) == len(after) == 1  # both versions say the same
    return before.pop(), after.pop()


def test_a_station_drops_the_txprofile_at_its_validity() -> None:
    limit = build_limit(EvseInfo("A", 1, "AC", 3, 22.0), 11.0, NOW, "7", validity_s=60)
    before, after = _on_station(limit)
    assert before == limit_kw(limit) and after is None  # then its TxDefault applies


async def test_a_new_planner_restores_what_the_last_one_recorded(database_url: str) -> None:
    """Intent, then answer, through the table; a second journal (a restarted process) reads
    the same counts back: the accepted decrease, and the unanswered increase at its higher."""
    engine = create_engine(database_url)
    uow = UnitOfWork(session_factory(engine))
    async with uow() as s:
        site = await assets.create_site(s, NOW, "Depot", "Europe/Paris", 40.0)
        for sid in ("CP-1", "CP-2"):
            await assets.create_station(s, NOW, sid, site.id, "station-password-0001",
                                        [assets.EvseSpec(1)])  # fmt: skip
            s.add(Transaction(station_id=sid, ocpp_transaction_id=f"tx-{sid}", evse_id=1,
                              started_at=NOW, ocpp_version="2.0.1", created_at=NOW,
                              updated_at=NOW))  # fmt: skip
    journal = LimitJournal(uow)
    evse = {sid: EvseInfo(sid, 1, "AC", 3, 22.0) for sid in ("CP-1", "CP-2")}
    lowered = build_limit(evse["CP-1"], 8.0, NOW, "tx-CP-1", validity_s=600)
    raised = build_limit(evse["CP-2"], 18.0, NOW, "tx-CP-2", validity_s=600)
    told = [Told("CP-1", lowered, limit_kw(lowered), 15.0),
            Told("CP-2", raised, limit_kw(raised), 10.0)]  # fmt: skip
    await journal.intents(told, NOW)
    await journal.answers([(told[0], "accepted"), (told[1], "unknown")], NOW)
    cache = await LimitJournal(uow).rebuild(NOW + timedelta(minutes=1))
    await engine.dispose()
    assert cache[("CP-1", 1)].counted_kw(NOW) == limit_kw(lowered) <= 8.0
    assert cache[("CP-2", 1)].counted_kw(NOW) == limit_kw(raised)  # the higher of 10 and 18
    assert cache[("CP-1", 1)].valid_until == NOW + timedelta(minutes=10)
