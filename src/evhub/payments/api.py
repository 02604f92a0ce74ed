"""REST routes, for operators (payments are personal and financial data): mandates (a
driver's own, created through an operator key on his behalf, as bookings are), payments (paged
like every list), refunds, settlements, direct debit returns and the month's reconciliation."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response, status

from evhub.auth.deps import OPERATOR
from evhub.deps import ClockDep, ReadSessionDep, ServicesDep, SessionDep
from evhub.pagination import PAGE_RESPONSE, PageDep, fetch_page, set_page_headers
from evhub.params import DbId
from evhub.payments import mandates, reconcile, sepa, service
from evhub.payments.schemas import (
    MandateIn,
    MandateOut,
    OpenBalanceOut,
    OperationOut,
    PaymentOut,
    PaymentStatus,
    ReconciliationLineOut,
    ReconciliationOut,
    RefundIn,
    ReturnIn,
    SettlementsIn,
    SettlementsOut,
)
from evhub.payments.service import SettlementLine

router = APIRouter(tags=["payments"])
Month = Annotated[str, Path(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$",
        description="The same key again returns the first refund, and refunds once.",
    ),
]  # fmt: skip


@router.post(
    "/payments/mandates",
    status_code=status.HTTP_201_CREATED,
    response_model=MandateOut,
    dependencies=[OPERATOR],
)
async def create_mandate(body: MandateIn, session: SessionDep, clock: ClockDep) -> object:
    """A driver's SEPA Core mandate; IBAN and BIC are checked, the reference is unique."""
    request = mandates.MandateRequest(
        body.driver_id, body.debtor_name, body.iban, body.signed_on, body.bic, body.reference
    )
    return await mandates.create_mandate(session, request, clock.now())


@router.get(
    "/payments/mandates",
    response_model=list[MandateOut],
    dependencies=[OPERATOR],
    responses=PAGE_RESPONSE,
)
async def list_mandates(
    session: ReadSessionDep,
    page: PageDep,
    request: Request,
    response: Response,
    driver_id: DbId | None = None,
    mandate_status: Annotated[
        str | None, Query(alias="status", pattern="^(active|revoked)$")
    ] = None,
) -> object:
    rows, total = await fetch_page(
        session, mandates.mandates_query(driver_id, mandate_status), page
    )
    set_page_headers(request, response, page, total)
    return rows


@router.post(
    "/payments/mandates/{mandate_id}/revoke", response_model=MandateOut, dependencies=[OPERATOR]
)
async def revoke_mandate(mandate_id: DbId, session: SessionDep, clock: ClockDep) -> object:
    return await mandates.revoke_mandate(session, mandate_id, clock.now())


@router.get(
    "/payments", response_model=list[PaymentOut], dependencies=[OPERATOR], responses=PAGE_RESPONSE
)
async def list_payments(
    session: ReadSessionDep,
    page: PageDep,
    request: Request,
    response: Response,
    driver_id: DbId | None = None,
    payment_status: Annotated[PaymentStatus | None, Query(alias="status")] = None,
    method: Annotated[str | None, Query(pattern="^(card|sepa)$")] = None,
) -> object:
    query = service.payments_query(driver_id, payment_status, method)
    rows, total = await fetch_page(session, query, page)
    set_page_headers(request, response, page, total)
    return rows


@router.get("/payments/{payment_id}", response_model=PaymentOut, dependencies=[OPERATOR])
async def get_payment(payment_id: DbId, session: ReadSessionDep) -> object:
    return await service.get_payment(session, payment_id)


@router.get(
    "/payments/{payment_id}/operations",
    response_model=list[OperationOut],
    dependencies=[OPERATOR],
)
async def list_operations(payment_id: DbId, session: ReadSessionDep) -> object:
    await service.get_payment(session, payment_id)
    return await service.operations_of(session, payment_id)


@router.post(
    "/payments/{payment_id}/refunds",
    status_code=status.HTTP_201_CREATED,
    response_model=OperationOut,
    dependencies=[OPERATOR],
    responses={503: {"description": "The acquirer did not answer: the refund stays pending "
                     "and is sent again with its key."}},
)  # fmt: skip
async def refund(
    payment_id: DbId, body: RefundIn, services: ServicesDep, key: IdempotencyKey = None
) -> object:
    """Refund (part of) a captured card payment; `status` of the answer is `succeeded` or
    `declined`."""
    return await service.refund(
        services.uow, services.payments, services.clock, payment_id, body.amount,
        f"refund:api:{key or uuid.uuid4().hex}",
    )  # fmt: skip


@router.post("/payments/settlements", response_model=SettlementsOut, dependencies=[OPERATOR])
async def record_settlements(body: SettlementsIn, session: SessionDep, clock: ClockDep) -> object:
    """The acquirer's settlement report; a line already recorded is skipped."""
    lines = [SettlementLine(x.provider_ref, x.amount, x.currency, x.settled_on) for x in body.lines]
    return SettlementsOut(recorded=await service.record_settlements(session, lines, clock.now()))


@router.post("/payments/sepa/returns", response_model=PaymentOut, dependencies=[OPERATOR])
async def record_return(body: ReturnIn, session: SessionDep, clock: ClockDep) -> object:
    """An R-transaction of a direct debit: the payment is `returned`, the debt re-opened."""
    return await sepa.record_return(session, body.end_to_end_id, body.reason_code, clock.now())


@router.get(
    "/payments/reconciliation/{month}", response_model=ReconciliationOut, dependencies=[OPERATOR]
)
async def reconciliation(month: Month, session: ReadSessionDep) -> object:
    """Invoiced vs captured vs settled per payment of the month, differences listed."""
    report = await reconcile.reconcile(session, month)
    return ReconciliationOut(
        month=month,
        invoiced=report.total("invoiced"),
        captured=report.total("captured"),
        settled=report.total("settled"),
        lines=[ReconciliationLineOut.model_validate(x) for x in report.lines],
        open_balances=[OpenBalanceOut.model_validate(b) for b in report.open_balances],
    )
