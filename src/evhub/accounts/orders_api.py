"""REST routes of orders (dealers, online shops) and of the RFID cards they promise."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from sqlalchemy.exc import IntegrityError

from evhub.accounts import orders, passes
from evhub.accounts.driver_deps import AccountConfigDep
from evhub.accounts.orders import OrderRequest
from evhub.accounts.self_schemas import CardOut, CardPosted, DriverTokenOut, OrderIn, OrderOut
from evhub.auth.deps import ADMIN, OPERATOR, VIEWER
from evhub.deps import ClockDep, ReadSessionDep, SessionDep, UowDep
from evhub.errors import Conflict, NotFound
from evhub.params import DbId

router = APIRouter(tags=["orders"])


@router.post(
    "/orders",
    status_code=status.HTTP_201_CREATED,
    response_model=OrderOut,
    dependencies=[OPERATOR],
    responses={200: {"model": OrderOut, "description": "A replay: the order as first placed"}},
)
async def place_order(
    body: OrderIn, response: Response, uow: UowDep, clock: ClockDep, config: AccountConfigDep
) -> object:
    """Open (or find by e-mail) the buyer's account, link the car, issue the pass and mail
    the welcome. Idempotent on `reference`: the same body again answers 200 with the same
    result; another body under the same reference is a 409."""
    request = OrderRequest(
        reference=body.reference, plan=body.plan, buyer_name=body.buyer.name,
        buyer_email=body.buyer.email, model_id=body.vehicle.model_id, vin=body.vehicle.vin,
        plate=body.vehicle.plate, rfid_card=body.rfid_card,
    )  # fmt: skip
    # A concurrent order of the same reference (or buyer) loses on a unique key: its
    # transaction is rolled back whole and run again, which then finds what the winner wrote.
    for _ in range(2):
        try:
            async with uow() as session:
                result, created = await orders.place_order(session, config, request, clock.now())
        except IntegrityError:
            continue
        response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return result
    raise Conflict(f"order {body.reference!r} conflicts with a concurrent one: retry")


@router.get("/orders/{reference}", response_model=OrderOut, dependencies=[VIEWER])
async def get_order(reference: str, session: ReadSessionDep) -> object:
    order = await orders.find_order(session, reference)
    if order is None:
        raise NotFound(f"order {reference!r} not found")
    return order.result


@router.get("/cards/to-post", response_model=list[CardOut], dependencies=[VIEWER])
async def cards_to_post(session: ReadSessionDep) -> object:
    return await passes.cards_to_post(session)


@router.post("/cards/{card_id}/posted", response_model=DriverTokenOut, dependencies=[ADMIN])
async def card_posted(
    card_id: DbId, body: CardPosted, session: SessionDep, clock: ClockDep, config: AccountConfigDep
) -> object:
    """The card was encoded with chip `uid` and posted: its token is accepted from now on."""
    _, token = await passes.post_card(
        session, card_id, body.uid, clock.now(), config.country_code, config.provider_id
    )
    return token
