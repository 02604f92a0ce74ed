"""`evhub prices`: import day-ahead prices and set a site's grid fee and demand charge."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.clock import SystemClock
from evhub.prices import service
from evhub.prices.entsoe import parse_publication_document
from evhub.prices.points import PriceFormatError, PricePoint, parse_price_csv

RunInUow = Callable[[Callable[[AsyncSession], Awaitable[Any]]], Any]


def _read(path: Path) -> tuple[str, str | None, list[PricePoint]]:
    """(source, bidding zone found in the file, prices) of a CSV or an ENTSO-E XML file."""
    try:
        if path.suffix.lower() == ".xml":
            zone, points = parse_publication_document(path.read_bytes())
            return "entsoe", zone or None, points
        return "csv", None, parse_price_csv(path.read_text(encoding="utf-8"))
    except (OSError, PriceFormatError) as error:
        raise typer.BadParameter(str(error), param_hint="FILE") from error


def register(app: typer.Typer, run_in_uow: RunInUow, console: Console) -> None:
    """Add the `prices` command group to the main application."""
    prices_app = typer.Typer(help="Day-ahead energy prices and site energy costs.")
    app.add_typer(prices_app, name="prices", no_args_is_help=True)

    @prices_app.command("import")
    def import_file(
        file: Annotated[Path, typer.Argument(help="datetime_utc,price_eur_per_mwh CSV or A44 XML")],
        site: Annotated[int | None, typer.Option("--site", help="Site id")] = None,
        zone: Annotated[
            str | None, typer.Option("--zone", help="Bidding zone EIC code (instead of a site)")
        ] = None,
    ) -> None:
        """Import day-ahead prices for a site or a bidding zone (a start already stored is
        replaced). An ENTSO-E document without --site/--zone goes to the zone it names."""
        source, found_zone, points = _read(file)
        if site is None and zone is None:
            zone = found_zone
        now = SystemClock().now()

        async def work(s: AsyncSession) -> int:
            return await service.import_prices(
                s, now, points, site_id=site, bidding_zone=zone, source=source
            )

        count = run_in_uow(work)
        owner = f"site {site}" if site is not None else f"zone {zone}"
        console.print(f"{count} prices imported for {owner} from {file.name} ({source})")

    @prices_app.command("costs")
    def costs(
        site: Annotated[int, typer.Option("--site", help="Site id")],
        grid_fee: Annotated[str, typer.Option(help="Grid fee per kWh, site currency")] = "0",
        demand_charge: Annotated[
            str, typer.Option(help="Demand charge per kW of the month's peak, site currency")
        ] = "0",
        zone: Annotated[
            str | None, typer.Option("--zone", help="Bidding zone whose prices the site uses")
        ] = None,
    ) -> None:
        """Set a site's grid fee, demand charge and bidding zone."""
        now = SystemClock().now()

        async def work(s: AsyncSession) -> None:
            await service.set_energy_costs(
                s,
                now,
                site,
                grid_fee_per_kwh=Decimal(grid_fee),
                demand_charge_per_kw_month=Decimal(demand_charge),
                bidding_zone=zone,
            )

        run_in_uow(work)
        console.print(f"site {site}: grid fee {grid_fee}/kWh, demand charge {demand_charge}/kW")
