"""REST routes for drivers and tokens."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from evhub.accounts import plans, service
from evhub.accounts.schemas import (
    DriverIn,
    DriverOut,
    TokenIn,
    TokenOut,
    TokenPatch,
)
from evhub.accounts.self_schemas import PlanOut, PlanPatch
from evhub.auth.deps import ADMIN, VIEWER
from evhub.deps import ClockDep, ReadSessionDep, SessionDep
from evhub.errors import InvalidInput
from evhub.pagination import PAGE_RESPONSE, PageDep, fetch_page, set_page_headers
from evhub.params import DbId

router = APIRouter(tags=["accounts"])


@router.post(
    "/drivers", status_code=status.HTTP_201_CREATED, response_model=DriverOut, dependencies=[ADMIN]
)
async def create_driver(body: DriverIn, session: SessionDep, clock: ClockDep) -> object:
    return await service.create_driver(session, body.name, body.email, body.user_group, clock.now())


@router.get("/drivers/{driver_id}", response_model=DriverOut, dependencies=[VIEWER])
async def get_driver(driver_id: DbId, session: ReadSessionDep) -> object:
    return await service.get_driver(session, driver_id)


@router.post(
    "/tokens", status_code=status.HTTP_201_CREATED, response_model=TokenOut, dependencies=[ADMIN]
)
async def create_token(body: TokenIn, session: SessionDep, clock: ClockDep) -> object:
    if body.expires_at is not None and body.expires_at.tzinfo is None:
        raise InvalidInput("expires_at needs a time zone offset")
    return await service.create_token(
        session, body.uid, body.type, body.status, clock.now(),
        body.driver_id, body.group_id, body.expires_at,
    )  # fmt: skip


@router.get(
    "/tokens", response_model=list[TokenOut], dependencies=[VIEWER], responses=PAGE_RESPONSE
)
async def list_tokens(
    session: ReadSessionDep, page: PageDep, request: Request, response: Response
) -> object:
    rows, total = await fetch_page(session, service.tokens_query(), page)
    set_page_headers(request, response, page, total)
    return rows


@router.patch("/tokens/{uid}", response_model=TokenOut, dependencies=[ADMIN])
async def patch_token(uid: str, body: TokenPatch, session: SessionDep) -> object:
    return await service.update_token_status(session, uid, body.status)


@router.patch("/accounts/plans/{code}", response_model=PlanOut, dependencies=[ADMIN])
async def patch_plan(code: str, body: PlanPatch, session: SessionDep) -> object:
    """Set a plan's fee, VAT rate, tariff (`"tariff_id": null`: the site's public tariff) or
    whether its drivers may book shared cars; null for the other fields is refused."""
    changes = body.model_dump(exclude_unset=True)
    for field in ("name", "monthly_fee", "currency", "vat_rate", "carsharing"):
        if field in changes and changes[field] is None:
            raise InvalidInput(f"{field} cannot be null")
    return await plans.update_plan(session, code, changes)
