"""The monthly report as PDF for a town council: a summary page, then a page per town.

Drawn with matplotlib into its PdfPages: one library for the charts and the document. Figures
are built with the object API (no pyplot): no display, no global state, safe off the event loop.
A4 portrait; each town's page has its figures, its revenue excl. VAT by plan and site, the
daily energy, the hourly occupancy heat map and each site's uptime; a town of many sites has
continuation pages for its revenue per site (`revenue_pdf.py`).
"""

from __future__ import annotations

import io
from datetime import timedelta

from matplotlib.axes import Axes
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from evhub.reporting import co2
from evhub.reporting.figures import METHODS, PLANNED_CAUSE, ScopeFigures
from evhub.reporting.money import money_text
from evhub.reporting.monthly import MonthlyReport
from evhub.reporting.revenue_pdf import (
    continuation_pages,
    network_revenue_page,
    revenue_table,
    site_chunks,
)

A4 = (8.27, 11.69)
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def monthly_pdf(report: MonthlyReport) -> bytes:
    out = io.BytesIO()
    with PdfPages(out, metadata={"Title": f"evhub monthly report {report.month.label}"}) as pdf:
        pdf.savefig(_summary_page(report))
        pdf.savefig(network_revenue_page(report.month.label, report.network, report.whole_network))
        for town in report.towns:
            sites = [s for s in report.sites if s.town == town.town]
            pdf.savefig(_town_page(report, town, sites))
            for page in continuation_pages(report.month.label, town, sites):
                pdf.savefig(page)
    return out.getvalue()


def _lines(report: MonthlyReport, f: ScopeFigures) -> list[tuple[str, str]]:
    down = f.availability.downtime_s
    groups = ", ".join(f"{g} {len(k)}" for g, k in sorted(f.drivers.items())) or "none"
    lines = [
        ("Charge points", f"{f.points}"),
        ("Sessions", f"{f.sessions}"),
        ("Unique drivers", f"{f.unique_drivers} ({groups})"),
        ("Energy delivered", f"{f.energy_kwh:,.1f} kWh"),
        ("Hours plugged / charging", f"{f.plugged_s / 3600:,.1f} h / {f.charging_s / 3600:,.1f} h"),
        ("Occupancy", _pct(f.occupancy_pct)),
        ("Availability", _pct(f.availability_pct)),
        ("Uptime (AFIR)", _pct(f.uptime_pct)),
        (
            "Downtime: faults / off line / planned",
            f"{down.get('faulted', 0) / 3600:.1f} h / {down.get('offline', 0) / 3600:.1f} h / "
            f"{down.get(PLANNED_CAUSE, 0) / 3600:.1f} h",
        ),
        (
            "Tickets opened / closed / open at end",
            f"{sum(f.tickets_opened.values())} / {f.tickets_closed} / {f.tickets_open_at_end}",
        ),
        (
            "Mean repair time",
            "-" if f.mean_repair_h is None else f"{f.mean_repair_h:.1f} h",
        ),
        ("Revenue excl. VAT", money_text(f.revenue_excl_vat)),
        (
            "Bookings (with a fee rule)",
            f"{f.bookings} ({sum(f.booking_fee_rules.values())})",
        ),
    ]
    if report.network.trips:  # the network runs car-sharing this month
        lines.append(("Car-sharing trips / km", f"{f.trips} / {f.trip_km:,.0f} km"))
    return [*lines, ("CO2 avoided", f"{co2.avoided_kg(f.energy_kwh):,.0f} kg")]


def _table(
    fig: Figure,
    rect: tuple[float, float, float, float],
    rows: list[tuple[str, str]],
    row_scale: float = 1.35,
) -> None:
    ax = fig.add_axes(rect)
    ax.axis("off")
    table = ax.table(cellText=[list(r) for r in rows], colWidths=[0.5, 0.5], loc="upper center")
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    table.scale(1, row_scale)
    for (r, c), cell in table.get_celld().items():
        cell.set_edgecolor("#cccccc")
        if c == 0:
            cell.set_text_props(fontweight="bold")
        cell.set_facecolor("#f4f6f8" if r % 2 == 0 else "white")


def _towns_table(
    fig: Figure, rect: tuple[float, float, float, float], towns: list[ScopeFigures]
) -> None:
    ax = fig.add_axes(rect)
    ax.axis("off")
    header = [
        "Town",
        "Points",
        "Sessions",
        "Energy (kWh)",
        "Occupancy",
        "Uptime (AFIR)",
        "Revenue excl. VAT",
    ]
    rows = [
        [t.town or "(no town)", str(t.points), str(t.sessions), f"{t.energy_kwh:,.1f}",
         _pct(t.occupancy_pct), _pct(t.uptime_pct), money_text(t.revenue_excl_vat)]
        for t in towns
    ]  # fmt: skip
    widths = [0.15, 0.09, 0.1, 0.13, 0.12, 0.14, 0.27]
    table = ax.table(cellText=rows, colLabels=header, colWidths=widths, loc="upper center")
    table.auto_set_font_size(False)
    table.set_fontsize(8.5)
    table.scale(1, 1.3)
    for (r, _), cell in table.get_celld().items():
        cell.set_edgecolor("#cccccc")
        if r == 0:
            cell.set_text_props(fontweight="bold")
            cell.set_facecolor("#dde6ee")


def _summary_page(report: MonthlyReport) -> Figure:
    fig = Figure(figsize=A4)
    fig.text(0.08, 0.95, "Charging hubs: monthly report", fontsize=18, fontweight="bold")
    last = (report.until - timedelta(seconds=1)).astimezone(report.month.local_start.tzinfo)
    period = f"{report.month.local_start:%d %B %Y} to {last:%d %B %Y}"
    fig.text(0.08, 0.925, f"{report.month.label}: {period} ({report.month.timezone})", fontsize=10)
    towns = ", ".join(t.town or "(no town)" for t in report.towns)
    fig.text(0.08, 0.905, f"Whole network: {len(report.sites)} sites in {towns}", fontsize=10)
    _table(fig, (0.08, 0.5, 0.84, 0.39), _lines(report, report.network))
    _towns_table(fig, (0.08, 0.42, 0.84, 0.15), report.towns)
    ax = fig.add_axes((0.3, 0.23, 0.62, 0.14))
    _uptime_bars(ax, report.sites)
    notes = ["Methods", *METHODS, co2.METHOD]
    y = 0.19
    for n, line in enumerate(notes):
        for part in _wrap(line, 105):
            fig.text(0.08, y, part, fontsize=7.5, fontweight="bold" if n == 0 else "normal")
            y -= 0.014
    return fig


def _town_page(report: MonthlyReport, town: ScopeFigures, sites: list[ScopeFigures]) -> Figure:
    fig = Figure(figsize=A4)
    fig.text(0.08, 0.95, town.town or "(no town)", fontsize=18, fontweight="bold")
    names = ", ".join(s.site_name for s in sites)
    head = _wrap(f"{report.month.label} - {len(sites)} sites: {names}", 120)
    fig.text(0.08, 0.925, head[0] + (" ..." if len(head) > 1 else ""), fontsize=9)
    _table(fig, (0.08, 0.62, 0.84, 0.29), _lines(report, town), row_scale=1.15)
    chunks = site_chunks(sites)
    title = "Revenue excl. VAT"
    if len(chunks) > 1:
        title += f" (sites 1 to {len(chunks[0])} of {len(sites)}; the others on the next pages)"
    revenue_table(fig, (0.08, 0.42, 0.84, 0.17), title, chunks[0], town, "Town total")
    ax = fig.add_axes((0.1, 0.315, 0.82, 0.09))
    _daily_energy(ax, report, town)
    ax = fig.add_axes((0.1, 0.16, 0.75, 0.1))
    _heat_map(fig, ax, town)
    ax = fig.add_axes((0.3, 0.03, 0.62, 0.075))
    _uptime_bars(ax, sites)
    return fig


def _daily_energy(ax: Axes, report: MonthlyReport, f: ScopeFigures) -> None:
    days = []
    day = report.month.local_start.date()
    while day < report.month.local_end.date():
        days.append(day)
        day += timedelta(days=1)
    ax.bar(
        [d.day for d in days], [f.daily_energy_wh.get(d, 0) / 1000 for d in days], color="#2a7ab0"
    )
    ax.set_title("Energy delivered per day (kWh)", fontsize=9, loc="left")
    ax.set_xlim(0.3, len(days) + 0.7)
    ax.tick_params(labelsize=7)


def _heat_map(fig: Figure, ax: Axes, f: ScopeFigures) -> None:
    image = ax.imshow(f.occupancy_heat(), aspect="auto", cmap="YlOrRd", vmin=0, vmax=100)
    ax.set_yticks(range(7), DAYS)
    ax.set_xticks(range(0, 24, 2), [f"{h:02d}h" for h in range(0, 24, 2)])
    ax.set_title("Occupancy by weekday and hour (% of points plugged)", fontsize=9, loc="left")
    ax.tick_params(labelsize=7)
    bar = fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
    bar.ax.tick_params(labelsize=7)


def _uptime_bars(ax: Axes, sites: list[ScopeFigures]) -> None:
    names = [s.site_name[:28] for s in sites]
    values = [s.uptime_pct if s.uptime_pct is not None else 0.0 for s in sites]
    bars = ax.barh(names, values, color=["#3a9a5b" if v >= 97 else "#d9822b" for v in values])
    for bar, site in zip(bars, sites, strict=True):
        label = _pct(site.uptime_pct)
        ax.text(min(bar.get_width(), 88) + 1, bar.get_y() + bar.get_height() / 2, label,
                va="center", fontsize=7)  # fmt: skip
    ax.axvline(97, color="#555555", linestyle="--", linewidth=0.8)
    ax.set_xlim(0, 100)
    ax.set_title("Uptime per site (AFIR, %; dashed: 97 %)", fontsize=9, loc="left")
    ax.tick_params(labelsize=7)
    ax.invert_yaxis()


def _pct(value: float | None) -> str:
    return "not known" if value is None else f"{value:.1f} %"


def _wrap(text: str, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*lines, line] if line else lines
