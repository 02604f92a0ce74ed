"""`evhub roaming ...`: invite a partner, connect to one, list partners, push tokens, set a
plan's roaming price."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.cli_database import run_with_database
from evhub.clock import SystemClock
from evhub.roaming import credentials, locations, partners, plan_prices, remote, tokens
from evhub.roaming.context import RoamingContext
from evhub.roaming.wire import OcpiError, PartnerError, Role
from evhub.settings import Settings, load_settings
from evhub.uow import UnitOfWork

RunInUow = Callable[[Callable[[AsyncSession], Awaitable[Any]]], Any]
T = TypeVar("T")


def _ocpi_error(exc: OcpiError) -> str:
    return f"[red]error:[/red] {exc.message} (OCPI {int(exc.status)})"


def _partner_error(exc: PartnerError) -> str:
    return f"[red]error:[/red] {exc}"


def _with_context(work: Callable[[RoamingContext], Awaitable[T]], console: Console) -> T:
    async def with_context(settings: Settings, uow: UnitOfWork) -> T:
        ctx = RoamingContext.from_settings(settings, uow, SystemClock())
        try:
            return await work(ctx)
        finally:
            await ctx.client.aclose()

    return run_with_database(
        with_context, console, [(OcpiError, _ocpi_error), (PartnerError, _partner_error)]
    )


def register(app: typer.Typer, run_in_uow: RunInUow, console: Console) -> None:
    """Add the `roaming` command group to the main application."""
    roaming = typer.Typer(help="OCPI 2.2.1 roaming partners.", no_args_is_help=True)
    app.add_typer(roaming, name="roaming")

    @roaming.command("invite")
    def invite(
        name: Annotated[str, typer.Option(help="the partner's name")],
        country_code: Annotated[str, typer.Option(help="ISO 3166 alpha-2")],
        party_id: Annotated[str, typer.Option(help="3 characters")],
        role: Annotated[Role, typer.Option(help="EMSP or CPO")],
        raw_token: Annotated[
            bool, typer.Option(help="the partner sends its token without Base64 (OCPI 2.1.1)")
        ] = False,
    ) -> None:
        """Register a partner that will connect to evhub; prints its TOKEN_A, last line alone."""
        now = SystemClock().now()

        async def work(s: AsyncSession) -> str:
            return await partners.invite(s, name, country_code, party_id, role, now, raw_token)

        token = run_in_uow(work)
        url = load_settings().advertised_url() + "/ocpi/versions"
        console.print(f"partner {name} invited; versions at {url}; its TOKEN_A, shown once:")
        print(token)

    @roaming.command("connect")
    def connect(
        versions_url: Annotated[str, typer.Option(help="the partner's OCPI versions URL")],
        token: Annotated[str, typer.Option(help="the TOKEN_A the partner gave")],
    ) -> None:
        """Register evhub with a partner (the credentials handshake); the running server
        answers the partner's calls back and then pulls its locations and tariffs."""
        ours = load_settings().advertised_url() + "/ocpi/versions"

        async def work(ctx: RoamingContext) -> int:
            return await credentials.connect(ctx, versions_url, token, ours)

        partner_id = _with_context(work, console)
        console.print(f"registered with {versions_url}: partner {partner_id}")

    @roaming.command("location")
    def location(
        site_id: int,
        postal_code: Annotated[str | None, typer.Option(help="at most 10 characters")] = None,
        city: Annotated[str | None, typer.Option(help="if not the site's town")] = None,
        parking_type: Annotated[str | None, typer.Option(help="e.g. PARKING_GARAGE")] = None,
        facility: Annotated[
            list[str] | None, typer.Option(help="OCPI Facility, repeatable (MALL, CAFE...)")
        ] = None,
        publish: Annotated[bool, typer.Option(help="shown to drivers by eMSPs")] = True,
    ) -> None:
        """Set what OCPI needs of a site beyond the site itself (the Location's details)."""
        now = SystemClock().now()
        given = {"postal_code": postal_code, "city": city, "parking_type": parking_type,
                 "facilities": facility}  # fmt: skip
        fields = {k: v for k, v in given.items() if v is not None} | {"publish": publish}

        async def work(s: AsyncSession) -> None:
            await locations.set_details(s, site_id, now, **fields)

        run_in_uow(work)
        console.print(f"site {site_id}: location details set")

    @roaming.command("list")
    def partner_list() -> None:
        """List partners, their roles and state."""

        async def work(s: AsyncSession) -> list[tuple[str, ...]]:
            rows = await partners.list_all(s)
            return [(str(p.id), p.name, p.status,
                     " ".join(f"{r.role}:{r.country_code}*{r.party_id}" for r in p.roles))
                    for p in rows]  # fmt: skip

        table = Table("id", "name", "status", "roles")
        for row in run_in_uow(work):
            table.add_row(*row)
        console.print(table)

    @roaming.command("push-tokens")
    def push_tokens(partner_id: int) -> None:
        """PUT every driver token to a partner CPO."""

        async def work(ctx: RoamingContext) -> int:
            return await tokens.push(ctx, partner_id, ctx.token_whitelist)

        console.print(f"{_with_context(work, console)} tokens pushed")

    @roaming.command("pull")
    def pull(partner_id: int, module: str = "locations") -> None:
        """Pull a partner CPO's locations (or tariffs) now."""

        async def work(ctx: RoamingContext) -> int:
            return await remote.pull(ctx, partner_id, module)

        console.print(f"{_with_context(work, console)} {module} pulled")

    @roaming.command("plan-price")
    def plan_price(
        plan: Annotated[str, typer.Argument(help="the plan's code, e.g. payg")],
        markup: Annotated[
            Decimal, typer.Option(help="on the partner CPO's cost excl. VAT: 0.15 is 15 %")
        ],
        fee: Annotated[
            Decimal, typer.Option(help="per roaming session, in the plan's currency")
        ] = Decimal(0),
    ) -> None:
        """Set what a plan's drivers pay for a charge on a partner's network."""
        now = SystemClock().now()

        async def work(s: AsyncSession) -> str:
            row = await plan_prices.set_price(s, plan, markup, fee, now)
            return (
                f"plan {plan}: partner's cost + {(row.markup_rate * 100).normalize():f} %, "
                f"+ {row.session_fee} {row.currency} a session"
            )

        console.print(run_in_uow(work))
