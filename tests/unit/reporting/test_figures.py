"""How a month is cut and how scopes add up: drivers are counted once across sites, and
uptime leaves planned maintenance out of its base where availability counts it as down."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from evhub.errors import InvalidInput
from evhub.maintenance.availability import Figures
from evhub.reporting import co2
from evhub.reporting.figures import ScopeFigures
from evhub.reporting.monthly import Month


def test_a_month_runs_between_local_midnights_across_a_clock_change() -> None:
    october = Month.parse("2026-10", "Europe/Paris")  # summer time ends on 25 October
    assert october.start.astimezone(UTC) == datetime(2026, 9, 30, 22, tzinfo=UTC)
    assert october.end.astimezone(UTC) == datetime(2026, 10, 31, 23, tzinfo=UTC)
    assert (october.end - october.start).total_seconds() / 3600 == 31 * 24 + 1
    december = Month.parse("2026-12", "Europe/Paris")
    assert december.end.astimezone(UTC) == datetime(2026, 12, 31, 23, tzinfo=UTC)


@pytest.mark.parametrize("label", ["2026-13", "2026-1", "26-11", "2026/11"])
def test_malformed_months_are_refused(label: str) -> None:
    with pytest.raises(InvalidInput):
        Month.parse(label, "Europe/Paris")


def test_a_driver_seen_at_two_sites_counts_once_in_the_town() -> None:
    a = ScopeFigures("site", "Anse", 1, "A", points=2, hours_in_month=10, sessions=2)
    a.drivers = {"resident": {"driver:1"}, "visitor": {"driver:2"}}
    b = ScopeFigures("site", "Anse", 2, "B", points=1, hours_in_month=10, sessions=1)
    b.drivers = {"resident": {"driver:1"}}
    town = ScopeFigures("town", "Anse", None, "")
    town.add(a)
    town.add(b)
    assert (town.sessions, town.unique_drivers, town.points) == (3, 2, 3)
    assert {g: len(k) for g, k in town.drivers.items()} == {"resident": 1, "visitor": 1}


def test_uptime_leaves_planned_maintenance_out_of_its_base() -> None:
    f = ScopeFigures("site", "Anse", 1, "A")
    f.availability = Figures(100.0, 90.0, {"faulted": 5.0, "unavailable": 5.0})
    assert f.availability_pct == 90.0
    assert f.uptime_pct == pytest.approx(100 * 90 / 95)
    assert ScopeFigures("site", "", 2, "B").uptime_pct is None  # nothing known: no figure


def test_co2_avoided_follows_the_stated_factors() -> None:
    km = 100 / co2.EV_KWH_PER_KM
    expected = km * co2.THERMAL_KG_PER_KM - 100 * co2.GRID_KG_PER_KWH
    assert co2.avoided_kg(100) == pytest.approx(expected)
    assert f"{co2.THERMAL_KG_PER_KM} kg/km" in co2.METHOD


def test_revenue_adds_up_by_plan_and_currency_with_credits_deducted() -> None:
    a = ScopeFigures("site", "Anse", 1, "A", currencies={"EUR"})
    a.charging_by_plan = {("payg", "EUR"): Decimal("9.5000"), ("roaming", "EUR"): Decimal("-1.25")}
    a.reservation_fees = {"EUR": Decimal("10.00")}
    b = ScopeFigures("site", "Anse", 2, "B", currencies={"EUR"})
    b.charging_by_plan = {("payg", "EUR"): Decimal("0.1234"), ("payg", "CHF"): Decimal("3")}
    b.carsharing_fees = {"EUR": Decimal("4.10")}
    town = ScopeFigures("town", "Anse", None, "")
    town.add(a)
    town.add(b)
    assert town.charging_by_plan == {
        ("payg", "EUR"): Decimal("9.6234"),
        ("roaming", "EUR"): Decimal("-1.25"),
        ("payg", "CHF"): Decimal("3"),
    }
    assert town.charging_of("payg") == {"EUR": Decimal("9.6234"), "CHF": Decimal("3")}
    assert town.revenue_excl_vat == {"CHF": Decimal("3"), "EUR": Decimal("22.4734")}
    empty = ScopeFigures("site", "Jassans", 3, "C", currencies={"EUR"})
    assert empty.revenue_excl_vat == {"EUR": Decimal(0)}  # nothing earned, said in its currency


def test_revenue_adds_every_kind_per_currency_credits_deducted_never_across_currencies() -> None:
    site = ScopeFigures("site", "Anse", 1, "A")
    site.currencies = {"EUR"}
    site.charging_by_plan = {("payg", "EUR"): Decimal("3.5000"), ("payg", "CHF"): Decimal("2")}
    site.reservation_fees = {"EUR": Decimal("5.00")}
    site.carsharing_fees = {"CHF": Decimal("7.25")}
    site.v2g_credits = {"EUR": Decimal("-0.41")}
    network = ScopeFigures("network", "", None, "network")
    network.add(site)
    network.plan_fees_by_plan = {("resident-night", "EUR"): Decimal("19.00")}
    network.partner_charging_by_plan = {("payg", "CHF"): Decimal("-1.10")}
    assert site.revenue_excl_vat == {"CHF": Decimal("9.25"), "EUR": Decimal("8.09")}
    assert network.revenue_excl_vat == {"CHF": Decimal("8.15"), "EUR": Decimal("27.09")}
    assert network.revenue_by_plan == {
        ("payg", "CHF"): Decimal("0.90"), ("payg", "EUR"): Decimal("3.5"),
        ("resident-night", "EUR"): Decimal("19.00"),
    }  # fmt: skip
