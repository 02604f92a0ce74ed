"""REST routes: the caller's identity; users and API keys (admin)."""

from __future__ import annotations

from fastapi import APIRouter, status

from evhub.auth import service
from evhub.auth.deps import ADMIN, ReportReader
from evhub.auth.schemas import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    UserIn,
    UserOut,
    UserPatch,
    WhoAmI,
)
from evhub.deps import ClockDep, ReadSessionDep, SessionDep
from evhub.params import DbId

router = APIRouter(tags=["authentication"])


@router.get("/me", response_model=WhoAmI)
async def who_am_i(principal: ReportReader) -> WhoAmI:
    """Who calls, with any role (a funder too, with its towns)."""
    towns = list(principal.towns) if principal.towns is not None else None
    return WhoAmI(
        kind=principal.kind, id=principal.id, name=principal.name, role=principal.role, towns=towns
    )


@router.get("/users", response_model=list[UserOut], dependencies=[ADMIN])
async def list_users(session: ReadSessionDep) -> object:
    return await service.list_users(session)


@router.post(
    "/users", status_code=status.HTTP_201_CREATED, response_model=UserOut, dependencies=[ADMIN]
)
async def create_user(body: UserIn, session: SessionDep, clock: ClockDep) -> object:
    return await service.create_user(
        session, body.name, body.password, body.role, clock.now(), body.towns
    )


@router.patch("/users/{user_id}", response_model=UserOut, dependencies=[ADMIN])
async def patch_user(user_id: DbId, body: UserPatch, session: SessionDep) -> object:
    return await service.update_user(
        session, user_id, body.role, body.password, body.active, body.towns
    )


@router.get("/api-keys", response_model=list[ApiKeyOut], dependencies=[ADMIN])
async def list_api_keys(session: ReadSessionDep) -> object:
    return await service.list_api_keys(session)


@router.post(
    "/api-keys",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreated,
    dependencies=[ADMIN],
)
async def create_api_key(body: ApiKeyIn, session: SessionDep, clock: ClockDep) -> ApiKeyCreated:
    row, key = await service.create_api_key(
        session, body.name, body.role, clock.now(), towns=body.towns
    )
    return ApiKeyCreated.model_validate({**ApiKeyOut.model_validate(row).model_dump(), "key": key})


@router.delete("/api-keys/{key_id}", response_model=ApiKeyOut, dependencies=[ADMIN])
async def revoke_api_key(key_id: DbId, session: SessionDep, clock: ClockDep) -> object:
    return await service.revoke_api_key(session, key_id, clock.now())
