"""REST routes of a driver's own money (`/me/...`, the driver's bearer token): charge detail
records, invoices, and an invoice's PDF as issued. Another driver's document answers 404."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts.driver_deps import CurrentDriver
from evhub.billing import cdrs, invoices
from evhub.billing.models import InvoiceRecord
from evhub.billing.schemas import CdrOut, InvoiceLineOut, InvoiceOut
from evhub.deps import ReadSessionDep
from evhub.errors import NotFound
from evhub.openapi import error_responses
from evhub.pagination import PAGE_RESPONSE, PageDep, fetch_page, set_page_headers
from evhub.params import DbId

router = APIRouter(tags=["driver billing"])
SIGNED_IN = error_responses(401, 403)
MINE = error_responses(401, 403, 404)


@router.get("/me/cdrs", response_model=list[CdrOut], responses=SIGNED_IN | PAGE_RESPONSE)
async def my_cdrs(
    driver: CurrentDriver,
    session: ReadSessionDep,
    page: PageDep,
    request: Request,
    response: Response,
) -> object:
    """Newest first; credits and corrections are CDRs of their own."""
    rows, total = await fetch_page(session, cdrs.cdrs_query(driver.driver_id), page)
    set_page_headers(request, response, page, total)
    return rows


@router.get("/me/cdrs/{cdr_id}", response_model=CdrOut, responses=MINE)
async def my_cdr(cdr_id: DbId, driver: CurrentDriver, session: ReadSessionDep) -> object:
    record = await cdrs.get_cdr(session, cdr_id)
    if record.driver_id != driver.driver_id:
        raise NotFound(f"CDR {cdr_id} not found")
    return record


@router.get("/me/invoices", response_model=list[InvoiceOut], responses=SIGNED_IN | PAGE_RESPONSE)
async def my_invoices(
    driver: CurrentDriver,
    session: ReadSessionDep,
    page: PageDep,
    request: Request,
    response: Response,
) -> object:
    rows, total = await fetch_page(session, invoices.invoices_query(driver.driver_id), page)
    set_page_headers(request, response, page, total)
    return rows


async def _mine(session: AsyncSession, driver_id: int, invoice_id: int) -> InvoiceRecord:
    invoice = await invoices.get_invoice(session, invoice_id)
    if invoice.driver_id != driver_id:
        raise NotFound(f"invoice {invoice_id} not found")
    return invoice


@router.get(
    "/me/invoices/{invoice_id}.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, **MINE},
)
async def my_invoice_pdf(
    invoice_id: DbId, driver: CurrentDriver, session: ReadSessionDep
) -> Response:
    """The PDF as issued (Factur-X for a business customer)."""
    invoice = await _mine(session, driver.driver_id, invoice_id)
    return Response(
        invoice.pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{invoice.number}.pdf"'},
    )


@router.get("/me/invoices/{invoice_id}", response_model=InvoiceOut, responses=MINE)
async def my_invoice(invoice_id: DbId, driver: CurrentDriver, session: ReadSessionDep) -> object:
    invoice = await _mine(session, driver.driver_id, invoice_id)
    out = InvoiceOut.model_validate(invoice)
    out.lines = [
        InvoiceLineOut.model_validate(x) for x in await invoices.lines_of(session, invoice_id)
    ]
    return out
