"""REST routes of charge detail records and invoices (thin: the rules are in `billing.cdrs`
and `billing.invoices`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from evhub.auth.deps import OPERATOR, VIEWER
from evhub.billing import cdrs, invoices
from evhub.billing.schemas import CdrOut, CorrectionIn, CorrectionOut, InvoiceLineOut, InvoiceOut
from evhub.billing.service import Party
from evhub.deps import ClockDep, ReadSessionDep, SessionDep
from evhub.pagination import PAGE_RESPONSE, PageDep, fetch_page, set_page_headers
from evhub.params import DbId
from evhub.settings import Settings

router = APIRouter(tags=["billing"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such document."}}


def _party(request: Request) -> Party:
    settings: Settings = request.app.state.settings
    return Party(settings.ocpi_country_code, settings.ocpi_party_id)


PartyDep = Annotated[Party, Depends(_party)]


@router.get("/cdrs", response_model=list[CdrOut], dependencies=[VIEWER], responses=PAGE_RESPONSE)
async def list_cdrs(
    session: ReadSessionDep,
    page: PageDep,
    request: Request,
    response: Response,
    driver_id: DbId | None = None,
    transaction_id: DbId | None = None,
) -> object:
    """Newest first; credits and corrections are CDRs of their own."""
    rows, total = await fetch_page(session, cdrs.cdrs_query(driver_id, transaction_id), page)
    set_page_headers(request, response, page, total)
    return rows


@router.get("/cdrs/{cdr_id}", response_model=CdrOut, dependencies=[VIEWER], responses=_NOT_FOUND)
async def get_cdr(cdr_id: Id, session: ReadSessionDep) -> object:
    return await cdrs.get_cdr(session, cdr_id)


@router.post(
    "/cdrs/{cdr_id}/correction",
    status_code=status.HTTP_201_CREATED,
    response_model=CorrectionOut,
    dependencies=[OPERATOR],
    responses={
        **_NOT_FOUND,
        409: {"description": "The CDR is a credit, or has been credited already."},
    },
)
async def correct_cdr(
    cdr_id: Id, body: CorrectionIn, session: SessionDep, clock: ClockDep, party: PartyDep
) -> object:
    """Credit the CDR (negated totals, referring to it) and issue a new one, priced by
    `tariff_id` if given, with `energy_wh` if the measured energy was wrong."""
    change = cdrs.Correction(body.reason, body.tariff_id, body.energy_wh)
    credit, fresh = await cdrs.correct(session, clock.now(), party, cdr_id, change)
    return CorrectionOut(
        credit=CdrOut.model_validate(credit), correction=CdrOut.model_validate(fresh)
    )


@router.get(
    "/invoices", response_model=list[InvoiceOut], dependencies=[VIEWER], responses=PAGE_RESPONSE
)
async def list_invoices(
    session: ReadSessionDep,
    page: PageDep,
    request: Request,
    response: Response,
    driver_id: DbId | None = None,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = None,
) -> object:
    rows, total = await fetch_page(session, invoices.invoices_query(driver_id, month), page)
    set_page_headers(request, response, page, total)
    return rows


@router.get(
    "/invoices/{invoice_id}.pdf",
    response_class=Response,
    dependencies=[VIEWER],
    responses={200: {"content": {"application/pdf": {}}}, **_NOT_FOUND},
)
async def invoice_pdf(invoice_id: Id, session: ReadSessionDep) -> Response:
    """The PDF as issued (Factur-X for a business customer)."""
    invoice = await invoices.get_invoice(session, invoice_id)
    return Response(
        invoice.pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{invoice.number}.pdf"'},
    )


@router.get(
    "/invoices/{invoice_id}", response_model=InvoiceOut, dependencies=[VIEWER], responses=_NOT_FOUND
)
async def get_invoice(invoice_id: Id, session: ReadSessionDep) -> object:
    invoice = await invoices.get_invoice(session, invoice_id)
    out = InvoiceOut.model_validate(invoice)
    out.lines = [
        InvoiceLineOut.model_validate(x) for x in await invoices.lines_of(session, invoice_id)
    ]
    return out
