"""Billing in the console: the newest charge detail records and invoices, with their PDFs."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from evhub.billing import cdrs, invoices
from evhub.deps import ReadSessionDep
from evhub.web.console import PageViewer, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 100


@router.get("/cdrs", response_class=HTMLResponse)
async def cdrs_page(
    request: Request, principal: PageViewer, session: ReadSessionDep, page: int = Query(1, ge=1)
) -> HTMLResponse:
    query = cdrs.cdrs_query().limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)
    rows = list(await session.scalars(query))
    return render(
        request, "cdrs.html", principal, rows=rows[:PAGE_SIZE], more=len(rows) > PAGE_SIZE,
        page=page,
    )  # fmt: skip


@router.get("/invoices", response_class=HTMLResponse)
async def invoices_page(
    request: Request, principal: PageViewer, session: ReadSessionDep, page: int = Query(1, ge=1)
) -> HTMLResponse:
    query = invoices.invoices_query().limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)
    rows = list(await session.scalars(query))
    return render(
        request, "invoices.html", principal, rows=rows[:PAGE_SIZE], more=len(rows) > PAGE_SIZE,
        page=page,
    )  # fmt: skip
