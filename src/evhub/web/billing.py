"""Billing in the console: tariffs, the newest charge detail records and invoices with their
PDFs, and the payments of drivers."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import desc

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
    rows = list(await session.scalars(query.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)))
    return render(
        request, "payments.html", principal, rows=rows[:PAGE_SIZE], more=len(rows) > PAGE_SIZE,
        page=page,
    )  # fmt: skip
