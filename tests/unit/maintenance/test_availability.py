"""Availability against hand-computed histories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from evhub.errors import InvalidInput
from evhub.maintenance.availability import (
    Figures,
    Outage,
    Period,
    StatusPoint,
    availability,
    combine,
)

DAY = datetime(2026, 11, 23, tzinfo=UTC)
PERIOD = Period(DAY, DAY + timedelta(days=1))


def h(hours: float) -> datetime:
    return DAY + timedelta(hours=hours)


def point(status: str, at: datetime, evse: int = 1, station: str = "CP-1") -> StatusPoint:
    return StatusPoint(station, evse, 0 if evse == 0 else 1, status, at)


def test_a_day_with_two_hours_faulted_and_half_an_hour_offline() -> None:
    records = [
        point("Available", h(-3)),  # before the period: gives the state at its start
        point("Charging", h(2)),
        point("Faulted", h(6)),
        point("Available", h(8)),
        point("Occupied", h(20)),
    ]
    outages = [Outage("CP-1", h(12), h(12.5))]

    figures = availability(records, PERIOD, outages)[("CP-1", 1, 1)]

    assert figures.total_s == 86_400
    assert figures.available_s == 21.5 * 3600
    assert figures.downtime_s == {"faulted": 7200, "offline": 1800}
    assert figures.unknown_s == 0
    assert figures.availability_pct == pytest.approx(89.5833, abs=1e-4)


def test_time_before_the_first_report_is_unknown_and_left_out() -> None:
    records = [point("Available", h(12)), point("Unavailable", h(18))]

    figures = availability(records, PERIOD)[("CP-1", 1, 1)]

    assert figures.unknown_s == 12 * 3600
    assert figures.known_s == 12 * 3600
    assert figures.downtime_s == {"unavailable": 6 * 3600}
    assert figures.availability_pct == pytest.approx(50.0)


def test_offline_counts_as_down_even_before_any_report() -> None:
    records = [point("Available", h(6))]
    outages = [Outage("CP-1", h(3), h(9))]  # overlaps the first report

    figures = availability(records, PERIOD, outages)[("CP-1", 1, 1)]

    assert figures.downtime_s == {"offline": 6 * 3600}
    assert figures.available_s == 15 * 3600
    assert figures.unknown_s == 3 * 3600


def test_an_ongoing_outage_runs_to_the_end_of_the_period() -> None:
    records = [point("Available", h(-1))]
    figures = availability(records, PERIOD, [Outage("CP-1", h(23))])[("CP-1", 1, 1)]
    assert figures.downtime_s == {"offline": 3600}


def test_a_station_level_fault_takes_every_connector_down() -> None:
    records = [
        point("Available", h(-1), evse=1),
        point("Available", h(-1), evse=2),
        point("Faulted", h(10), evse=0),
        point("Available", h(11), evse=0),
    ]

    figures = availability(records, PERIOD)

    assert set(figures) == {("CP-1", 1, 1), ("CP-1", 2, 1)}
    for f in figures.values():
        assert f.downtime_s == {"faulted": 3600}


def test_known_connectors_without_reports_are_listed_as_unknown() -> None:
    figures = availability([], PERIOD, connectors=[("CP-9", 1, 1)])
    only = figures[("CP-9", 1, 1)]
    assert only.unknown_s == 86_400
    assert only.availability_pct is None


def test_reports_at_the_same_instant_keep_the_last_one() -> None:
    records = [point("Faulted", h(0)), point("Available", h(0))]
    figures = availability(records, PERIOD)[("CP-1", 1, 1)]
    assert figures.availability_pct == 100.0


def test_aggregates_weigh_connector_seconds() -> None:
    records = [
        point("Available", h(-1), evse=1),
        point("Faulted", h(-1), evse=2),
        point("Available", h(-1), evse=1, station="CP-2"),
    ]

    total = combine(availability(records, PERIOD).values())

    assert total.total_s == 3 * 86_400
    assert total.availability_pct == pytest.approx(200 / 3)
    assert total.downtime_s == {"faulted": 86_400}
    assert Figures() + total == total


def test_an_empty_or_reversed_period_is_refused() -> None:
    with pytest.raises(InvalidInput):
        Period(DAY, DAY)
