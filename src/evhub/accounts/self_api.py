"""REST routes of drivers on their own: `/accounts/...` (sign-up, links, sign-in, catalogue)
and `/me/...` (the signed-in driver's account, plan, vehicles and tokens)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts import passes, plans, selfservice, vehicles
from evhub.accounts.driver_deps import AccountConfigDep, CurrentDriver
from evhub.accounts.errors import EmailNotVerified
from evhub.accounts.models import Driver
from evhub.accounts.self_schemas import (
    AccountOut,
    CardOut,
    DriverTokenOut,
    DriverTokenPatch,
    PasswordIn,
    PlanChoice,
    PlanOut,
    ResetIn,
    SessionOut,
    SignInIn,
    SignUpIn,
    VehicleIn,
    VehicleModelOut,
    VehicleOut,
    VerifyIn,
)
from evhub.accounts.service import get_driver
from evhub.deps import ClockDep, ReadSessionDep, SessionDep, UowDep
from evhub.openapi import error_responses
from evhub.params import DbId

router = APIRouter(tags=["driver accounts"])
SIGNED_IN = error_responses(401, 403)  # 403: the CSRF token of a cookie session


async def account_out(session: AsyncSession, driver: Driver) -> AccountOut:
    plan = await plans.plan_of(session, driver)
    return AccountOut(
        id=driver.id, name=driver.name, email=driver.email,
        email_verified=driver.email_verified_at is not None, user_group=driver.user_group,
        plan=PlanOut.model_validate(plan) if plan else None, contract_id=driver.contract_id,
    )  # fmt: skip


@router.post("/accounts/signup", status_code=status.HTTP_201_CREATED, response_model=AccountOut)
async def sign_up(
    body: SignUpIn, session: SessionDep, clock: ClockDep, config: AccountConfigDep
) -> AccountOut:
    """A new account; a mail with a verification link follows (409: the address has one)."""
    driver = await selfservice.sign_up(
        session, config, body.name, body.email, body.password, clock.now()
    )
    return await account_out(session, driver)


@router.post("/accounts/verify", response_model=AccountOut, responses=error_responses(410))
async def verify(
    body: VerifyIn, session: SessionDep, clock: ClockDep, config: AccountConfigDep
) -> AccountOut:
    """The token of the mailed link: 410 when it expired, 422 when it is not genuine."""
    driver = await selfservice.verify_email(session, config, body.token, clock.now())
    return await account_out(session, driver)


@router.post("/accounts/login", response_model=SessionOut, responses=error_responses(401, 403))
async def sign_in(
    body: SignInIn, uow: UowDep, clock: ClockDep, config: AccountConfigDep
) -> SessionOut:
    """A driver session: 401 for a wrong e-mail or password, 403 while the address is not
    verified (a new link is mailed)."""
    try:
        async with uow() as session:
            _, record = await selfservice.sign_in(
                session, config, body.email, body.password, clock.now()
            )
    except EmailNotVerified:
        async with uow() as session:
            await selfservice.resend_verification(session, config, body.email, clock.now())
        raise
    return SessionOut(token=record.id, expires_at=record.expires_at)


@router.post("/accounts/logout", status_code=status.HTTP_204_NO_CONTENT, responses=SIGNED_IN)
async def sign_out(driver: CurrentDriver, session: SessionDep, clock: ClockDep) -> Response:
    """Revoke the session: its token is refused from now on."""
    await selfservice.sign_out(session, driver.session_id, clock.now())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/accounts/password-reset", status_code=status.HTTP_202_ACCEPTED)
async def request_reset(
    body: ResetIn, session: SessionDep, clock: ClockDep, config: AccountConfigDep
) -> Response:
    """Mail a link to choose a new password; the same answer whether the address is known."""
    await selfservice.request_password_reset(session, config, body.email, clock.now())
    return Response(status_code=status.HTTP_202_ACCEPTED)


@router.post("/accounts/password", response_model=AccountOut, responses=error_responses(410))
async def set_password(
    body: PasswordIn, session: SessionDep, clock: ClockDep, config: AccountConfigDep
) -> AccountOut:
    """Choose a password with the token of a mailed link (reset or welcome); the driver's
    sessions are revoked. 410: the link expired; 422: not genuine, or used already."""
    driver = await selfservice.set_password(session, config, body.token, body.password, clock.now())
    return await account_out(session, driver)


@router.get("/accounts/plans", response_model=list[PlanOut])
async def list_plans(session: ReadSessionDep) -> object:
    return await plans.list_plans(session)


@router.get("/accounts/vehicle-models", response_model=list[VehicleModelOut])
async def vehicle_catalogue(session: ReadSessionDep) -> object:
    return await vehicles.catalogue(session)


@router.get("/me/account", response_model=AccountOut, responses=SIGNED_IN)
async def my_account(driver: CurrentDriver, session: ReadSessionDep) -> AccountOut:
    return await account_out(session, await get_driver(session, driver.driver_id))


@router.put("/me/plan", response_model=AccountOut, responses=SIGNED_IN)
async def choose_plan(body: PlanChoice, driver: CurrentDriver, session: SessionDep) -> AccountOut:
    row = await get_driver(session, driver.driver_id)
    await plans.assign_plan(session, row, body.plan)
    return await account_out(session, row)


@router.get("/me/vehicles", response_model=list[VehicleOut], responses=SIGNED_IN)
async def my_vehicles(driver: CurrentDriver, session: ReadSessionDep) -> list[VehicleOut]:
    return [_vehicle_out(v, m) for v, m in await vehicles.vehicles_of(session, driver.driver_id)]


@router.post(
    "/me/vehicles",
    status_code=status.HTTP_201_CREATED,
    response_model=VehicleOut,
    responses=SIGNED_IN,
)
async def add_vehicle(
    body: VehicleIn, driver: CurrentDriver, session: SessionDep, clock: ClockDep
) -> VehicleOut:
    """A car of the catalogue (404: no such model; 409: the VIN is registered)."""
    vehicle = await vehicles.add_vehicle(
        session, driver.driver_id, body.model_id, clock.now(), body.plate, body.vin
    )
    return _vehicle_out(vehicle, await vehicles.get_model(session, vehicle.model_id))


@router.delete(
    "/me/vehicles/{vehicle_id}", status_code=status.HTTP_204_NO_CONTENT, responses=SIGNED_IN
)
async def remove_vehicle(vehicle_id: DbId, driver: CurrentDriver, session: SessionDep) -> Response:
    await vehicles.remove_vehicle(session, driver.driver_id, vehicle_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me/tokens", response_model=list[DriverTokenOut], responses=SIGNED_IN)
async def my_tokens(driver: CurrentDriver, session: ReadSessionDep) -> object:
    return await passes.tokens_of(session, driver.driver_id)


@router.patch("/me/tokens/{uid}", response_model=DriverTokenOut, responses=SIGNED_IN)
async def block_or_unblock(
    uid: str, body: DriverTokenPatch, driver: CurrentDriver, session: SessionDep, clock: ClockDep
) -> object:
    """Block a lost card or unblock it (409: blocked by the operator, expired or invalid)."""
    return await passes.set_status_by_driver(
        session, driver.driver_id, uid, body.status, clock.now()
    )


@router.get("/me/cards", response_model=list[CardOut], responses=SIGNED_IN)
async def my_cards(driver: CurrentDriver, session: ReadSessionDep) -> object:
    return await passes.cards_of(session, driver.driver_id)


@router.post(
    "/me/cards", status_code=status.HTTP_201_CREATED, response_model=CardOut, responses=SIGNED_IN
)
async def order_card(driver: CurrentDriver, session: SessionDep, clock: ClockDep) -> object:
    """An RFID card for the driver's contract, posted by the operator (`to_post` until then)."""
    return await passes.request_card(
        session, await get_driver(session, driver.driver_id), clock.now()
    )


def _vehicle_out(vehicle: object, model: object) -> VehicleOut:
    return VehicleOut.model_validate(
        {**{k: getattr(vehicle, k) for k in ("id", "plate", "vin", "created_at")},
         "model": VehicleModelOut.model_validate(model)}
    )  # fmt: skip
