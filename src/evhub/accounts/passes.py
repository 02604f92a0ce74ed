"""A driver's pass: the contract (an eMI3 contract id), its app token, its RFID cards, and the
driver blocking and unblocking them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts import contract_ids
from evhub.accounts.models import CardShipment, Driver, Token
from evhub.accounts.service import create_token, find_token
from evhub.errors import Conflict, NotFound
from evhub.events import emit

# OCPP 2.0.1 IdTokenEnumType eMAID: the app token is the contract id itself (ISO 15118-1
# eMAID, without separators), as a Plug & Charge or app start presents it.
APP_TOKEN_TYPE = "eMAID"
CARD_TOKEN_TYPE = "ISO14443"
DRIVER_STATUSES = ("Accepted", "Blocked")


def contract_of(driver: Driver, country: str, provider: str) -> str:
    """The driver's contract id, given on first use (display form, `FR-EVH-C00000042-X`)."""
    if driver.contract_id is None:
        driver.contract_id = str(contract_ids.for_driver(country, provider, driver.id))
    return driver.contract_id


async def issue_app_token(
    session: AsyncSession, driver: Driver, country: str, provider: str, now: datetime
) -> Token:
    """The driver's app token (the same on every call)."""
    contract = contract_of(driver, country, provider)
    uid = contract_ids.parse(contract).compact
    token = await find_token(session, uid)
    if token is None:
        token = await create_token(session, uid, APP_TOKEN_TYPE, "Accepted", now, driver.id)
        token.contract_id = contract
        emit(session, "token.issued", now, driver_id=driver.id, uid=uid, type=APP_TOKEN_TYPE)
    return token


async def request_card(session: AsyncSession, driver: Driver, now: datetime) -> CardShipment:
    card = CardShipment(driver_id=driver.id, state="to_post", requested_at=now)
    session.add(card)
    await session.flush()
    emit(session, "card.requested", now, driver_id=driver.id, card_id=card.id)
    return card


async def post_card(
    session: AsyncSession, card_id: int, uid: str, now: datetime, country: str, provider: str
) -> tuple[CardShipment, Token]:
    """The card was encoded with chip `uid` and posted: its token is created, accepted."""
    card = await session.get(CardShipment, card_id, with_for_update=True)
    if card is None:
        raise NotFound(f"card {card_id} not found")
    if card.state != "to_post":
        raise Conflict(f"card {card_id} was posted already")
    driver = await session.get(Driver, card.driver_id)
    assert driver is not None  # the foreign key cascades
    token = await create_token(session, uid, CARD_TOKEN_TYPE, "Accepted", now, driver.id)
    token.contract_id = contract_of(driver, country, provider)
    card.state, card.token_id, card.posted_at = "posted", token.id, now
    emit(session, "token.issued", now, driver_id=driver.id, uid=uid, type=CARD_TOKEN_TYPE)
    return card, token


async def cards_of(session: AsyncSession, driver_id: int) -> list[CardShipment]:
    query = select(CardShipment).where(CardShipment.driver_id == driver_id)
    return list((await session.execute(query.order_by(CardShipment.id))).scalars())


async def cards_to_post(session: AsyncSession) -> list[CardShipment]:
    query = select(CardShipment).where(CardShipment.state == "to_post")
    return list((await session.execute(query.order_by(CardShipment.id))).scalars())


async def tokens_of(session: AsyncSession, driver_id: int) -> list[Token]:
    query = select(Token).where(Token.driver_id == driver_id).order_by(Token.id)
    return list((await session.execute(query)).scalars())


async def set_status_by_driver(
    session: AsyncSession, driver_id: int, uid: str, status: str, now: datetime
) -> Token:
    """A driver blocks a lost card, or unblocks it; a block by an operator, or an expired or
    invalid token, is not the driver's to lift."""
    token = await find_token(session, uid)
    if token is None or token.driver_id != driver_id:
        raise NotFound(f"token {uid!r} not found among your tokens")
    if status not in DRIVER_STATUSES:
        raise Conflict(f"a driver may set a token Accepted or Blocked, not {status}")
    if token.status not in DRIVER_STATUSES:
        raise Conflict(f"token {uid!r} is {token.status}: ask the operator")
    if token.status == "Blocked" and token.blocked_by != "driver" and status == "Accepted":
        raise Conflict(f"token {uid!r} was blocked by the operator: ask the operator")
    if token.status != status:
        token.status = status
        token.blocked_by = "driver" if status == "Blocked" else None
        emit(session, "token.status_changed", now, uid=uid, status=status, by="driver")
    return token
