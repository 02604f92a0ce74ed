"""One command's work against the configured database, migrated first.

Every command that reads or writes the database goes through `run_with_database`, so that a
known error prints one line and exits with status 2, never a traceback, and the engine is
always disposed of."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import typer
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.db import create_engine, migrate, session_factory
from evhub.errors import DomainError
from evhub.settings import Settings, load_settings
from evhub.uow import UnitOfWork

T = TypeVar("T")
# An error type the command knows, and what to print for it.
Explanation = tuple[type[Exception], Callable[[Any], str]]


def _domain_error(exc: DomainError) -> str:
    return f"[red]error:[/red] {exc.message}"


def run_with_database(
    work: Callable[[Settings, UnitOfWork], Awaitable[T]],
    console: Console,
    explain: Sequence[Explanation] = (),
) -> T:
    """Run `work` with the settings and a unit of work; the errors in `explain` (then any
    DomainError) are printed and exit with status 2."""
    settings = load_settings()
    migrate(settings.database_url)

    async def main() -> T:
        engine = create_engine(settings.database_url)
        try:
            return await work(settings, UnitOfWork(session_factory(engine)))
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except Exception as exc:
        known: list[Explanation] = [*explain, (DomainError, _domain_error)]
        for kind, describe in known:
            if isinstance(exc, kind):
                console.print(describe(exc))
                raise typer.Exit(2) from exc
        raise


def run_in_session(
    work: Callable[[AsyncSession], Awaitable[T]],
    console: Console,
    explain: Sequence[Explanation] = (),
) -> T:
    """Run `work` in one transaction, committed when it returns."""

    async def in_session(_settings: Settings, uow: UnitOfWork) -> T:
        async with uow() as session:
            return await work(session)

    return run_with_database(in_session, console, explain)
