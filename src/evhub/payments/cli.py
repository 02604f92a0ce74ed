"""`evhub payments ...`: the month's SEPA direct debit file, returns, and reconciliation."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.cli_database import run_in_session
from evhub.clock import SystemClock
from evhub.errors import DomainError
from evhub.payments import reconcile as reconciliation
from evhub.payments import sepa
from evhub.settings import load_settings

payments_app = typer.Typer(
    help="Payments: SEPA direct debit, reconciliation.", no_args_is_help=True
)
_out = Console()
_err = Console(stderr=True)
T = TypeVar("T")
MONTH_HELP = "the month, YYYY-MM"


def _run(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    return run_in_session(work, _err)


@payments_app.command("sepa-batch")
def sepa_batch(
    month: Annotated[str, typer.Option(help=MONTH_HELP)],
    out: Annotated[Path, typer.Option(help="the pain.008.001.02 file to write")],
    collect_on: Annotated[
        str | None, typer.Option(help="requested collection date (default: the 5th next month)")
    ] = None,
) -> None:
    """Book the month's collections (once) and write them as a pain.008 file for the bank."""
    settings = load_settings()
    try:
        creditor = sepa.Creditor.from_settings(settings)
        sepa.month_bounds(month)
    except DomainError as exc:
        _err.print(f"[red]error:[/red] {escape(exc.message)}", highlight=False)
        raise typer.Exit(2) from exc
    now = SystemClock().now()
    when = date.fromisoformat(collect_on) if collect_on else sepa.collection_date(month, now.date())

    async def work(session: AsyncSession) -> tuple[bytes, int]:
        payments = await sepa.collect_month(session, month, settings.payment_currency, now)
        if not payments:
            return b"", 0
        return await sepa.pain008(session, creditor, payments, when), len(payments)

    document, count = _run(work)
    if count == 0:
        _out.print(f"nothing to collect for {month}; no file written")
        return
    out.write_bytes(document)
    _out.print(f"{count} direct debit(s) for {month} written to {out}, collected on {when}")


@payments_app.command("sepa-return")
def sepa_return(
    end_to_end_id: Annotated[str, typer.Option(help="the collection's end-to-end id")],
    reason: Annotated[str, typer.Option(help="the ISO 20022 reason code, e.g. AM04")],
) -> None:
    """Record an R-transaction: the collection failed, the driver owes it again."""
    now = SystemClock().now()

    async def work(session: AsyncSession) -> str:
        payment = await sepa.record_return(session, end_to_end_id, reason, now)
        return f"payment {payment.id} returned ({reason})"

    _out.print(_run(work))


@payments_app.command("reconcile")
def reconcile(
    month: Annotated[str, typer.Option(help=MONTH_HELP)],
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object on stdout")] = False,
) -> None:
    """Invoiced vs captured vs settled per payment of the month, differences listed."""
    report = _run(lambda session: reconciliation.reconcile(session, month))
    if as_json:
        body = {
            "month": month,
            "lines": [
                {**vars(line), "invoiced": str(line.invoiced), "captured": str(line.captured),
                 "settled": str(line.settled)}
                for line in report.lines
            ],
            "open_balances": [
                {"driver_id": b.driver_id, "currency": b.currency, "balance": str(b.balance)}
                for b in report.open_balances
            ],
        }  # fmt: skip
        typer.echo(json.dumps(body))
        return
    table = Table(title=f"Reconciliation {month}")
    for column in ("payment", "driver", "method", "status", "invoiced", "captured", "settled",
                   "differences"):  # fmt: skip
        table.add_column(column)
    for line in report.lines:
        table.add_row(
            str(line.payment_id), str(line.driver_id), line.method, line.status,
            str(line.invoiced), str(line.captured), str(line.settled), "; ".join(line.differences),
        )  # fmt: skip
    _out.print(table)
    for b in report.open_balances:
        _out.print(f"driver {b.driver_id} balance {b.balance} {b.currency}")
