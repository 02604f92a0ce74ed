"""`evhub report ...`: the monthly report and the IRVE files, read from the database.

A file is written only once it is whole: an IRVE export that lacks data exits non-zero with
what is missing per site and point, and leaves no file behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.cli_database import run_in_session
from evhub.clock import SystemClock
from evhub.reporting.irve import IrveIncomplete, dynamic_csv, static_csv
from evhub.reporting.render import ReportFormat, render_monthly
from evhub.settings import load_settings

report_app = typer.Typer(help="Monthly reports and IRVE open data.", no_args_is_help=True)
errors = Console(stderr=True)
T = TypeVar("T")


def _incomplete(exc: IrveIncomplete) -> str:
    lines = ["[red]IRVE export incomplete, nothing written. Missing:[/red]"]
    lines += [f"  {item.scope}: {', '.join(item.missing)}" for item in exc.missing]
    return "\n".join(lines)


def _read(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    return run_in_session(work, errors, [(IrveIncomplete, _incomplete)])


def _write(out: Path, data: bytes) -> None:
    """Whole or not at all: a temporary file beside the target, renamed over it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, out)
    except BaseException:
        os.unlink(tmp)
        raise


@report_app.command()
def monthly(
    month: Annotated[str, typer.Option(help="YYYY-MM")],
    out: Annotated[Path, typer.Option(help="file to write")],
    format: Annotated[str, typer.Option("--format", help="csv, pdf or json")] = "csv",
    town: Annotated[str | None, typer.Option(help="one town only")] = None,
    site: Annotated[int | None, typer.Option("--site", help="one site id only")] = None,
) -> None:
    """The month's report per network, town and site."""
    formats: dict[str, ReportFormat] = {"csv": "csv", "pdf": "pdf", "json": "json"}
    if format not in formats:
        errors.print("[red]error:[/red] --format is csv, pdf or json")
        raise typer.Exit(2)
    fmt = formats[format]
    settings, now = load_settings(), SystemClock().now()
    data = _read(lambda s: render_monthly(s, settings, month, now, fmt, town, site))
    _write(out, data)
    typer.echo(f"{out}: {len(data)} bytes")


@report_app.command()
def irve(
    out: Annotated[Path, typer.Option(help="CSV file to write")],
    dynamic: Annotated[bool, typer.Option("--dynamic", help="the dynamic file")] = False,
) -> None:
    """The IRVE file (etalab/schema-irve v2.3.0), static by default."""
    now = SystemClock().now()
    if dynamic:
        text = _read(lambda s: dynamic_csv(s, now))
    else:
        text = _read(lambda s: static_csv(s, now.date()))
    _write(out, text.encode())
    typer.echo(f"{out}: {text.count(chr(10)) - 1} points")
