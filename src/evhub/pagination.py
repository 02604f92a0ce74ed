"""Pages of list routes: `limit`/`offset` in, the list as the body, the total in headers.

One convention for every list route: the body stays the JSON array it always was (old clients
keep working), `X-Total-Count` says how many rows match, and an RFC 8288 `Link` header names the
`next` and `prev` pages, so that a client follows links instead of computing offsets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.params import DB_INT_MAX

TOTAL_HEADER = "X-Total-Count"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

PAGE_HEADERS: dict[str, Any] = {
    TOTAL_HEADER: {"description": "Rows matching the filter.", "schema": {"type": "integer"}},
    "Link": {
        "description": "RFC 8288 links to the next and prev pages.",
        "schema": {"type": "string"},
    },
}
PAGE_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"headers": PAGE_HEADERS}}


@dataclass(frozen=True)
class PageParams:
    limit: int
    offset: int


def _page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Rows per page.")] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=DB_INT_MAX, description="Rows to skip.")] = 0,
) -> PageParams:
    return PageParams(limit, offset)


PageDep = Annotated[PageParams, Depends(_page_params)]


async def fetch_page(
    session: AsyncSession, query: Select[Any], page: PageParams
) -> tuple[list[Any], int]:
    """The rows of one page of `query` (which carries its own order) and the total count."""
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = (await session.execute(query.limit(page.limit).offset(page.offset))).scalars()
    return list(rows), int(total or 0)


def set_page_headers(request: Request, response: Response, page: PageParams, total: int) -> None:
    """`X-Total-Count` and the `Link` header of the pages around this one."""
    response.headers[TOTAL_HEADER] = str(total)
    links = []
    if page.offset + page.limit < total:
        links.append(_link(request, page.limit, page.offset + page.limit, "next"))
    if page.offset > 0:
        links.append(_link(request, page.limit, max(page.offset - page.limit, 0), "prev"))
    if links:
        response.headers["Link"] = ", ".join(links)


def _link(request: Request, limit: int, offset: int, rel: str) -> str:
    url = request.url.include_query_params(limit=limit, offset=offset)
    return f'<{url}>; rel="{rel}"'
