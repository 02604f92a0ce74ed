"""`evhub user ...` and `evhub apikey ...`: console logins and API keys from the shell."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.auth import service
from evhub.auth.passwords import generate_password
from evhub.auth.roles import Role
from evhub.clock import SystemClock

RunInUow = Callable[[Callable[[AsyncSession], Awaitable[Any]]], Any]


def register(app: typer.Typer, run_in_uow: RunInUow, console: Console) -> None:
    """Add the `user` and `apikey` command groups to the main application."""
    user_app = typer.Typer(help="Console users.", no_args_is_help=True)
    key_app = typer.Typer(help="API keys (Authorization: Bearer KEY).", no_args_is_help=True)
    app.add_typer(user_app, name="user")
    app.add_typer(key_app, name="apikey")

    @user_app.command("create")
    def user_create(
        name: str,
        role: Annotated[Role, typer.Option(help="funder, viewer, operator or admin")] = Role.VIEWER,
        town: Annotated[
            list[str] | None, typer.Option(help="a funder's town (repeat for several)")
        ] = None,
        password: Annotated[
            str | None, typer.Option(help="at least 8 characters; generated if omitted")
        ] = None,
        prompt: Annotated[bool, typer.Option(help="ask for the password")] = False,
    ) -> None:
        """Create a console user; prints the password when it was generated."""
        if password is None and prompt:
            password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
        secret = password or generate_password()
        now = SystemClock().now()

        async def work(s: AsyncSession) -> None:
            await service.create_user(s, name, secret, role, now, town)

        run_in_uow(work)
        shown = f"; password: {secret}" if password is None else ""
        towns = f" for {', '.join(town)}" if town else ""
        console.print(f"user {name} created ({role}{towns}){shown}")

    @user_app.command("list")
    def user_list() -> None:
        """List console users."""

        async def work(s: AsyncSession) -> list[tuple[str, ...]]:
            return [
                (u.name, u.role, "yes" if u.active else "no", str(u.last_login_at or "-"))
                for u in await service.list_users(s)
            ]

        table = Table("user", "role", "active", "last login")
        for row in run_in_uow(work):
            table.add_row(*row)
        console.print(table)

    @key_app.command("create")
    def key_create(
        role: Annotated[Role, typer.Option(help="funder, viewer, operator or admin")],
        name: Annotated[str, typer.Option(help="what the key is for")] = "",
        town: Annotated[
            list[str] | None, typer.Option(help="a funder's town (repeat for several)")
        ] = None,
    ) -> None:
        """Create an API key and print it (only this once: it is stored hashed)."""
        now = SystemClock().now()

        async def work(s: AsyncSession) -> str:
            _, key = await service.create_api_key(s, name, role, now, towns=town)
            return key

        key = run_in_uow(work)
        console.print(f"API key ({role}{', ' + name if name else ''}), shown once:", style="bold")
        print(key)

    @key_app.command("revoke")
    def key_revoke(key_id: int) -> None:
        """Revoke an API key by its id (see `evhub apikey list`)."""
        now = SystemClock().now()

        async def work(s: AsyncSession) -> None:
            await service.revoke_api_key(s, key_id, now)

        run_in_uow(work)
        console.print(f"API key {key_id} revoked")

    @key_app.command("list")
    def key_list() -> None:
        """List API keys (their prefix, never the key)."""

        async def work(s: AsyncSession) -> list[tuple[str, ...]]:
            return [
                (str(k.id), k.name, k.prefix + "…", k.role, str(k.last_used_at or "-"),
                 "revoked" if k.revoked_at else "")
                for k in await service.list_api_keys(s)
            ]  # fmt: skip

        table = Table("id", "name", "prefix", "role", "last used", "")
        for row in run_in_uow(work):
            table.add_row(*row)
        console.print(table)
