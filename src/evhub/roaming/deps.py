"""The OCPI edge's dependencies: the context, the calling partner, paging and filters."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.roaming import partners
from evhub.roaming.context import RoamingContext
from evhub.roaming.models import Partner
from evhub.roaming.partners import PartnerStatus
from evhub.roaming.wire import OcpiError, OcpiStatus, envelope, page_headers, parse_timestamp

MAX_LIMIT = 100
MOUNT = "/ocpi"  # where app.py mounts the OCPI edge


def _ctx(request: Request) -> RoamingContext:
    ctx: RoamingContext = request.app.state.roaming
    return ctx


RoamingDep = Annotated[RoamingContext, Depends(_ctx)]


def ocpi_base(request: Request, ctx: RoamingContext) -> str:
    """evhub's OCPI root as partners must see it: the public URL, else this request's host."""
    if ctx.public_url:
        return ctx.public_url.rstrip("/") + MOUNT
    return f"{request.url.scheme}://{request.url.netloc}{MOUNT}"


def _path_under_mount(request: Request) -> str:
    """The request's path below /ocpi (a mounted app may see it with or without the prefix)."""
    return request.url.path.removeprefix(MOUNT)


def _partner_dep(
    *statuses: PartnerStatus,
) -> Callable[[Request, RoamingContext], Coroutine[Any, Any, Partner]]:
    async def dependency(request: Request, ctx: RoamingDep) -> Partner:
        """OCPI 2.2.1 §4.1.3: a missing or unknown token is answered 401, with an envelope."""
        async with ctx.uow() as session:
            partner = await partners.by_header(session, request.headers.get("Authorization"))
        if partner is None or partner.status not in statuses:
            raise OcpiError("unknown or missing credentials token", OcpiStatus.CLIENT_ERROR, 401)
        return partner

    return dependency


# Versions, details and credentials answer any token evhub issued (TOKEN_A included);
# the functional modules only a registered partner's.
KnownPartner = Annotated[
    Partner,
    Depends(
        _partner_dep(PartnerStatus.INVITED, PartnerStatus.CONNECTING, PartnerStatus.REGISTERED)
    ),
]
RegisteredPartner = Annotated[Partner, Depends(_partner_dep(PartnerStatus.REGISTERED))]


async def _session(ctx: RoamingDep, _: RegisteredPartner) -> AsyncIterator[AsyncSession]:
    """The request's transaction, opened only once the partner is known (and its lookup's
    own transaction is over: on SQLite one connection serves them in turn)."""
    async with ctx.uow() as session:
        yield session


# scope="function": committed before the response leaves, as in evhub.deps.
OcpiSession = Annotated[AsyncSession, Depends(_session, scope="function")]


@dataclass(frozen=True)
class Page:
    offset: int
    limit: int
    date_from: datetime | None
    date_to: datetime | None

    def select(self, items: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
        """Filter on last_updated (`date_from` inclusive, `date_to` exclusive), then slice."""
        kept = [
            i for i in items
            if (self.date_from is None or parse_timestamp(i["last_updated"]) >= self.date_from)
            and (self.date_to is None or parse_timestamp(i["last_updated"]) < self.date_to)
        ]  # fmt: skip
        return kept[self.offset : self.offset + self.limit], len(kept)


def _page(
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1)] = MAX_LIMIT,
    date_from: str | None = None,
    date_to: str | None = None,
) -> Page:
    try:
        start = parse_timestamp(date_from) if date_from else None
        end = parse_timestamp(date_to) if date_to else None
    except ValueError as exc:
        raise OcpiError(str(exc), OcpiStatus.INVALID_PARAMETERS) from exc
    return Page(offset, min(limit, MAX_LIMIT), start, end)


PageDep = Annotated[Page, Depends(_page)]


def paged_response(
    request: Request, ctx: RoamingContext, page: Page, items: list[dict[str, Any]]
) -> JSONResponse:
    """One page in the envelope, with X-Total-Count, X-Limit and the `next` Link (§4.1.3)."""
    chosen, total = page.select(items)
    url = ocpi_base(request, ctx) + request.url.path.removeprefix(
        request.scope.get("root_path", "")
    )
    headers = page_headers(
        url, dict(request.query_params), page.offset, page.limit, len(chosen), total
    )
    return JSONResponse(envelope(chosen, ctx.clock.now()), headers=headers)


def ok(ctx: RoamingContext, data: Any, status_code: int = 200) -> JSONResponse:
    return JSONResponse(envelope(data, ctx.clock.now()), status_code=status_code)
