"""The PDF's revenue excl. VAT tables: a row per kind of revenue, a column per scope.

A town page shows its sites by tables of SITES_PER_TABLE columns, each ending with the town's
total, so that a town of any number of sites is readable: the first table on the town's page,
the others on continuation pages (TABLES_PER_PAGE to a page). The network's own page adds
what belongs to no site or town: plan fees and charging on partner networks, by plan.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

from matplotlib.figure import Figure

from evhub.reporting.figures import ScopeFigures
from evhub.reporting.money import money_text

A4 = (8.27, 11.69)
SITES_PER_TABLE = 3
TABLES_PER_PAGE = 3
OF_NO_SITE = (
    "Plan fees and charging on partner networks belong to no site or town: they are counted "
    "in the whole network's figures only."
)


def revenue_rows(scopes: list[ScopeFigures], total: ScopeFigures) -> list[list[str]]:
    """Rows of a revenue table: each plan's charging, then (for the network) each plan's fees
    and partner charging, reservation fees, car-sharing, V2G credits and the total; a column
    per scope of `scopes`, then `total`. A row appears when `total` has such revenue."""
    columns = [*scopes, total]
    rows = []
    for plan in sorted({p for p, _ in total.charging_by_plan}):
        rows.append([f"Charging, {plan}", *(money_text(s.charging_of(plan)) for s in columns)])
    for plan in sorted({p for p, _ in total.plan_fees_by_plan}):
        rows.append([f"Plan fees, {plan}", *(money_text(s.plan_fees_of(plan)) for s in columns)])
    for plan in sorted({p for p, _ in total.partner_charging_by_plan}):
        label = f"Partner networks, {plan}"
        rows.append([label, *(money_text(s.partner_charging_of(plan)) for s in columns)])
    rows.append(["Reservation fees", *(money_text(s.reservation_fees) for s in columns)])
    if total.trips or total.carsharing_fees:
        rows.append(["Car-sharing", *(money_text(s.carsharing_fees) for s in columns)])
    if total.v2g_credits:
        rows.append(["V2G credits", *(money_text(s.v2g_credits) for s in columns)])
    rows.append(["Total", *(money_text(s.revenue_excl_vat) for s in columns)])
    return rows


def site_chunks(sites: list[ScopeFigures]) -> list[list[ScopeFigures]]:
    """The sites of a town, SITES_PER_TABLE to a table (one empty table for no site)."""
    n = SITES_PER_TABLE
    return [sites[i : i + n] for i in range(0, len(sites), n)] or [[]]


def revenue_table(
    fig: Figure,
    rect: tuple[float, float, float, float],
    title: str,
    scopes: list[ScopeFigures],
    total: ScopeFigures,
    total_label: str,
) -> None:
    ax = fig.add_axes(rect)
    ax.axis("off")
    ax.set_title(title, fontsize=9, loc="left")
    rows = revenue_rows(scopes, total)
    header = ["", *(s.site_name[:26] or s.town for s in scopes), total_label]
    widths = [0.3, *([0.7 / (len(scopes) + 1)] * (len(scopes) + 1))]
    table = ax.table(cellText=rows, colLabels=header, colWidths=widths, loc="upper center")
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    table.scale(1, 1.25)
    for (r, c), cell in table.get_celld().items():
        cell.set_edgecolor("#cccccc")
        if r == 0 or c == 0 or r == len(rows):
            cell.set_text_props(fontweight="bold")
        if r == 0:
            cell.set_facecolor("#dde6ee")


def continuation_pages(
    label: str, town: ScopeFigures, sites: list[ScopeFigures]
) -> Iterator[Figure]:
    """The town's revenue tables after its first, TABLES_PER_PAGE to a page."""
    rest = site_chunks(sites)[1:]
    pages = [rest[i : i + TABLES_PER_PAGE] for i in range(0, len(rest), TABLES_PER_PAGE)]
    for n, chunks in enumerate(pages, start=2):
        fig = Figure(figsize=A4)
        fig.text(0.08, 0.95, f"{town.town or '(no town)'}, continued", fontsize=16,
                 fontweight="bold")  # fmt: skip
        fig.text(0.08, 0.925, f"{label} - revenue excl. VAT per site ({n}/{len(pages) + 1})",
                 fontsize=9)  # fmt: skip
        for i, chunk in enumerate(chunks):
            top = 0.88 - i * 0.29
            first = (1 + (n - 2) * TABLES_PER_PAGE + i) * SITES_PER_TABLE + 1
            last = first + len(chunk) - 1
            span = f"Site {first}" if first == last else f"Sites {first} to {last}"
            title = f"{span} of {len(sites)}"
            revenue_table(fig, (0.08, top - 0.25, 0.84, 0.25), title, chunk, town, "Town total")
        yield fig


def network_revenue_page(label: str, network: ScopeFigures, whole: bool) -> Figure:
    """The whole network's revenue by kind and plan, with what belongs to no town."""
    fig = Figure(figsize=A4)
    fig.text(0.08, 0.95, "Revenue excl. VAT", fontsize=18, fontweight="bold")
    scope = "whole network" if whole else "the sites of this report"
    fig.text(0.08, 0.925, f"{label} - {scope}, by kind and plan", fontsize=10)
    note = OF_NO_SITE if whole else f"{OF_NO_SITE} This report covers part of it: not here."
    for n, line in enumerate(textwrap.wrap(note, 110)):
        fig.text(0.08, 0.9 - n * 0.015, line, fontsize=8)
    revenue_table(fig, (0.08, 0.4, 0.84, 0.45), "", [], network, "Network")
    return fig
