"""Billing in the console: tariffs, the newest charge detail records and invoices with their
PDFs, and the payments of drivers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import Select, desc
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.auth.service import Principal
from evhub.billing import cdrs, invoices
from evhub.billing import service as billing
from evhub.deps import ReadSessionDep
from evhub.payments import service as payments
from evhub.payments.models import Payment
from evhub.web.console import PageOperator, PageViewer, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 100


@router.get("/cdrs", response_class=HTMLResponse)
async def cdrs_page(
    request: Request, principal: PageViewer, session: ReadSessionDep, page: int = Query(1, ge=1)
) -> HTMLResponse:
    return await _paged(request, principal, session, "cdrs.html", cdrs.cdrs_query(), page)


@router.get("/invoices", response_class=HTMLResponse)
async def invoices_page(
    request: Request, principal: PageViewer, session: ReadSessionDep, page: int = Query(1, ge=1)
) -> HTMLResponse:
    query = invoices.invoices_query()
    return await _paged(request, principal, session, "invoices.html", query, page)


@router.get("/tariffs", response_class=HTMLResponse)
async def tariffs_page(
    request: Request, principal: PageViewer, session: ReadSessionDep
) -> HTMLResponse:
    """Every tariff with its price components and restrictions, as OCPI 2.2.1 §11 states them."""
    rows = await billing.list_tariffs(session)
    return render(request, "tariffs.html", principal, rows=rows)


@router.get("/payments", response_class=HTMLResponse)
async def payments_page(
    request: Request, principal: PageOperator, session: ReadSessionDep, page: int = Query(1, ge=1)
) -> HTMLResponse:
    """Card and SEPA payments, newest first (the API's role: operators)."""
    query = payments.payments_query().order_by(None).order_by(desc(Payment.id))
    return await _paged(request, principal, session, "payments.html", query, page)


async def _paged(
    request: Request,
    principal: Principal,
    session: AsyncSession,
    template: str,
    query: Select[Any],
    page: int,
) -> HTMLResponse:
    """One page of `query`'s rows, and whether there are more (one row read past the page)."""
    rows = list(await session.scalars(query.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)))
    return render(
        request, template, principal, rows=rows[:PAGE_SIZE], more=len(rows) > PAGE_SIZE,
        page=page,
    )  # fmt: skip
