"""The demand model: which source decides a car's need and departure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from evhub.charging.models import Transaction
from evhub.planning import demand
from evhub.planning.demand import HistoryDefault, HistoryDefaults, resolve
from evhub.planning.models import ChargingNeed

NOW = datetime(2026, 11, 23, 18, tzinfo=UTC)
HISTORY = HistoryDefault(energy_kwh=12.0, stay=timedelta(hours=3), samples=40)


def tx(delivered_wh: int = 2000, soc: float | None = None) -> Transaction:
    return Transaction(id=7, started_at=NOW - timedelta(hours=1), meter_start_wh=1000,
                       meter_last_wh=1000 + delivered_wh, soc_last_pct=soc)  # fmt: skip


def test_driver_declaration_wins_and_counts_what_was_delivered() -> None:
    leaves = NOW + timedelta(hours=2)
    declared = ChargingNeed(transaction_pk=7, energy_kwh=20.0, departure_at=leaves, source="driver")
    need = resolve(tx(), declared, HISTORY, NOW)
    assert (need.source, need.remaining_kwh, need.departure_at) == (
        "driver",
        18.0,
        NOW + timedelta(hours=2),
    )


def test_soc_with_known_battery_when_no_energy_was_declared() -> None:
    declared = ChargingNeed(transaction_pk=7, battery_kwh=60.0, source="iso15118")
    need = resolve(tx(delivered_wh=5000, soc=50.0), declared, HISTORY, NOW)
    assert need.source == "soc"
    assert need.remaining_kwh == 30.0  # half of 60 kWh still to go
    assert need.departure_at == NOW - timedelta(hours=1) + HISTORY.stay


def test_history_when_nothing_is_known() -> None:
    need = resolve(tx(), None, HISTORY, NOW)
    assert (need.source, need.remaining_kwh) == ("history", 10.0)
    assert need.departure_at == NOW + timedelta(hours=2)


def test_a_car_past_its_usual_stay_is_given_a_little_more_time() -> None:
    old = tx()
    old.started_at = NOW - timedelta(hours=5)
    need = resolve(old, None, HISTORY, NOW)
    assert need.departure_at == NOW + timedelta(minutes=15)


async def test_history_defaults_are_read_once_per_site_group_and_hour_for_a_while(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads: list[tuple[int, str | None, datetime]] = []

    async def counted(
        session: object, site_id: int, tz: ZoneInfo, group: str | None, now: datetime
    ) -> HistoryDefault:
        reads.append((site_id, group, now))
        return HistoryDefault(float(len(reads)), timedelta(hours=3), 10)

    monkeypatch.setattr(demand, "history_default", counted)
    kept = HistoryDefaults(keep_s=600)
    paris = ZoneInfo("Europe/Paris")
    first = await kept.of(None, 1, paris, "residents", NOW)  # type: ignore[arg-type]
    again = await kept.of(None, 1, paris, "residents", NOW + timedelta(minutes=9))  # type: ignore[arg-type]
    assert again == first and len(reads) == 1
    await kept.of(None, 2, paris, "residents", NOW)  # type: ignore[arg-type]  # another site
    await kept.of(None, 1, paris, None, NOW)  # type: ignore[arg-type]  # another group
    await kept.of(None, 1, paris, "residents", NOW + timedelta(minutes=10))  # type: ignore[arg-type]
    assert len(reads) == 4  # kept no longer than `keep_s`
    by_hour = HistoryDefaults(keep_s=7200)
    await by_hour.of(None, 1, paris, None, NOW + timedelta(minutes=50))  # type: ignore[arg-type]
    await by_hour.of(None, 1, paris, None, NOW + timedelta(minutes=65))  # type: ignore[arg-type]
    assert len(reads) == 6  # 19:50 and 20:05 in Paris: two local hours, two reads
