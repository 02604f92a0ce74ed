"""The monthly PDF for a town council: a town of many sites shows every site's revenue by plan,
on its page and continuation pages, with the town's total; what belongs to no town is on the
network's revenue page. Read back with pypdf, text as a reader sees it."""

from __future__ import annotations

import io
from decimal import Decimal

from pypdf import PdfReader

from evhub.reporting.figures import ScopeFigures
from evhub.reporting.money import money_text
from evhub.reporting.monthly import Month, MonthlyReport
from evhub.reporting.monthly_pdf import monthly_pdf
from evhub.reporting.revenue_pdf import SITES_PER_TABLE

NAMES = ["Mairie", "Gare", "Stade", "Ecole", "Marche"]


def five_site_town() -> MonthlyReport:
    """Anse with five sites, each with its own charging revenue by plan. Amounts are distinct
    per site (site n: n x 11.11 EUR resident, n x 1.01 EUR payg)."""
    month = Month.parse("2026-11", "Europe/Paris")
    sites = []
    for n, name in enumerate(NAMES, start=1):
        site = ScopeFigures("site", "Anse", n, name, points=2, hours_in_month=720)
        site.currencies = {"EUR"}
        site.charging_by_plan = {
            ("resident-night", "EUR"): Decimal("11.11") * n,
            ("payg", "EUR"): Decimal("1.01") * n,
        }
        sites.append(site)
    sites[1].v2g_credits = {"EUR": Decimal("-0.41")}
    anse = ScopeFigures("town", "Anse", None, "")
    network = ScopeFigures("network", "", None, "network")
    for s in sites:
        anse.add(s)
        network.add(s)
    network.plan_fees_by_plan = {("resident-night", "EUR"): Decimal("9.90")}
    return MonthlyReport(month, month.end, network, [anse], sites)


def flat(text: str) -> str:
    return " ".join(text.split())


def test_a_town_of_five_sites_lists_each_site_s_revenue_and_the_town_total() -> None:
    report = five_site_town()
    pages = [flat(p.extract_text()) for p in PdfReader(io.BytesIO(monthly_pdf(report))).pages]
    # Summary, network revenue, Anse and its continuation page.
    assert len(pages) == 4
    anse = [p for p in pages if "5 sites: Mairie" in p or "Anse, continued" in p]
    assert len(anse) == 1 + (len(NAMES) - 1) // SITES_PER_TABLE
    text = " ".join(anse)
    town = report.towns[0]
    for n, (name, site) in enumerate(zip(NAMES, report.sites, strict=False), start=1):
        assert name in text
        resident = money_text({"EUR": Decimal("11.11") * n})
        assert resident == money_text(site.charging_of("resident-night"))
        assert resident in text, name
        assert money_text({"EUR": Decimal("1.01") * n}) in text, name
    # The town's total on each of its tables: every site's charging, the credit deducted.
    want = sum(Decimal("12.12") * n for n in range(1, 6)) - Decimal("0.41")
    assert money_text({"EUR": want}) == money_text(town.revenue_excl_vat)
    assert all(money_text({"EUR": want}) in page for page in anse)
    assert "V2G credits" in text and "-0.41 EUR" in text
    # A plan fee belongs to no town: on the network's revenue page, not in a town's.
    (revenue,) = [p for p in pages if "whole network, by kind and plan" in p]
    assert "Plan fees, resident-night" in revenue and "9.90 EUR" in revenue
    assert "Plan fees" not in text
