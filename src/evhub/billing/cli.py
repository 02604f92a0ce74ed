"""`evhub billing ...`: price a CDR under a tariff from the shell (no server or database), and
issue a month's invoices (`evhub billing invoice --month YYYY-MM`, on the configured database).

`evhub billing price --json` reads one JSON object on stdin,
`{"tariff": <OCPI 2.2.1 Tariff>, "cdr": <CDR without its totals>, "time_zone": "Europe/Paris"}`,
and prints the CDR's totals as one JSON object. Invalid input exits with status 2 and says why
on stderr.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from evhub.billing.invoices import Month, issuer_of, run_month
from evhub.billing.lines import sources
from evhub.billing.pricing import Costs, price_cdr
from evhub.billing.schemas import CostsOut
from evhub.billing.tariff import CdrDraft, TariffToPrice
from evhub.cli_database import run_with_database
from evhub.clock import SystemClock
from evhub.errors import DomainError
from evhub.settings import Settings
from evhub.uow import UnitOfWork

billing_app = typer.Typer(help="Tariffs (OCPI 2.2.1) and pricing.", no_args_is_help=True)
_err = Console(stderr=True)


class PriceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tariff: TariffToPrice
    cdr: CdrDraft
    time_zone: str

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {name!r}") from exc
        return name


def _fail(message: str) -> typer.Exit:
    _err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


def _validation_message(exc: ValidationError) -> str:
    lines = [f"invalid input ({exc.error_count()} error(s)):"]
    for error in exc.errors(include_url=False):
        where = ".".join(str(p) for p in error["loc"]) or "(root)"
        lines.append(f"  {where}: {error['msg']}")
    return "\n".join(lines)


def read_request(text: str) -> PriceRequest:
    """The request on stdin; numbers parsed as decimals, never through binary floats."""
    try:
        raw = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise _fail(f"stdin is not JSON: {exc}") from exc
    try:
        return PriceRequest.model_validate(raw)
    except ValidationError as exc:
        raise _fail(_validation_message(exc)) from exc


@billing_app.command("price")
def price_command(
    as_json: Annotated[bool, typer.Option("--json", help="print the totals as JSON")] = False,
) -> None:
    """Price a CDR's charging periods under an OCPI 2.2.1 tariff (JSON request on stdin)."""
    request = read_request(sys.stdin.read())
    try:
        costs = price_cdr(request.tariff, request.cdr, request.time_zone)
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    out = CostsOut.of(costs)
    if as_json:
        sys.stdout.write(out.model_dump_json() + "\n")
        return
    _print_table(costs, request.tariff.currency)


def _print_table(costs: Costs, currency: str) -> None:
    table = Table("total", f"excl. VAT ({currency})", f"incl. VAT ({currency})")
    for name in ("energy", "time", "parking", "fixed", "reservation"):
        cost = getattr(costs, f"total_{name}_cost")
        table.add_row(name, str(cost.excl_vat), str(cost.incl_vat))
    table.add_row(
        "[bold]total[/bold]", str(costs.total_cost.excl_vat), str(costs.total_cost.incl_vat)
    )
    console = Console()
    console.print(table)
    console.print(
        f"energy {costs.total_energy} kWh, time {costs.total_time} h, "
        f"parking {costs.total_parking_time} h"
    )


@billing_app.command("invoice")
def invoice(
    month: Annotated[str, typer.Option(help="The month to invoice, YYYY-MM.")],
) -> None:
    """Issue the month's invoices (one per driver with lines not yet invoiced up to the
    month's end); rerunning issues only what is missing. Prints the numbers issued."""

    try:
        chosen = Month.parse(month)
    except DomainError as exc:
        raise _fail(exc.message) from exc

    async def work(settings: Settings, uow: UnitOfWork) -> list[str]:
        issuer = issuer_of(settings)
        return await run_month(uow, SystemClock().now(), issuer, chosen, sources(settings))

    numbers = run_with_database(work, _err)
    typer.echo(json.dumps({"month": month, "issued": numbers}))
