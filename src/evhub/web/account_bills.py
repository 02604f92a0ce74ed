"""Driver pages of money: the driver's charge detail records and invoices, and an invoice's
PDF as issued. A driver reaches only their own: anyone else's answers 404, as if it did not
exist."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from evhub.accounts.driver_deps import signed_in_driver
from evhub.billing import cdrs, invoices
from evhub.errors import NotFound
from evhub.web.account_charging import db_id, driver_page, not_found, see_other, services_of

router = APIRouter(prefix="/account", include_in_schema=False)


@router.get("/bills", response_class=HTMLResponse)
async def bills_page(request: Request) -> Response:
    driver = await signed_in_driver(request)
    if driver is None:
        return see_other("/account/login")
    services = services_of(request)
    async with services.read_sessions() as session, session.begin():
        records = list(await session.scalars(cdrs.cdrs_query(driver.driver_id).limit(200)))
        issued = list(await session.scalars(invoices.invoices_query(driver.driver_id).limit(60)))
    return driver_page(request, "account_charge_bills.html", driver, cdrs=records,
                       invoices=issued, tz=services.settings.invoice_timezone)  # fmt: skip


@router.get("/cdrs/{cdr_id}", response_class=HTMLResponse)
async def cdr_page(request: Request, cdr_id: int) -> Response:
    driver = await signed_in_driver(request)
    if driver is None:
        return see_other("/account/login")
    services = services_of(request)
    async with services.read_sessions() as session, session.begin():
        try:
            record = await cdrs.get_cdr(session, db_id(cdr_id))
            if record.driver_id != driver.driver_id:
                raise NotFound(f"CDR {cdr_id} not found")
        except NotFound as exc:
            return not_found(request, driver, exc.message)
    return driver_page(request, "account_charge_cdr.html", driver, cdr=record,
                       tz=services.settings.invoice_timezone)  # fmt: skip


@router.get("/invoices/{invoice_id}.pdf")
async def invoice_pdf(request: Request, invoice_id: int) -> Response:
    """The PDF as issued (Factur-X for a business customer)."""
    driver = await signed_in_driver(request)
    if driver is None:
        return see_other("/account/login")
    async with services_of(request).read_sessions() as session, session.begin():
        try:
            invoice = await invoices.get_invoice(session, db_id(invoice_id))
            if invoice.driver_id != driver.driver_id:
                raise NotFound(f"invoice {invoice_id} not found")
        except NotFound as exc:
            return not_found(request, driver, exc.message)
        pdf, number = invoice.pdf, invoice.number
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{number}.pdf"'},
    )
