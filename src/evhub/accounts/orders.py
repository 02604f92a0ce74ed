"""Orders: a dealer or an online shop hands over a sold car with its plan and its buyer.

evhub opens the buyer's account (or finds it by e-mail), links the car, issues the pass (the
app token at once, an RFID card to be posted) and mails a welcome with a link to choose a
password. The order's reference is a unique key of `orders`: a replay (same reference, same
body) finds the row and answers what it answered the first time; another body under the same
reference is a conflict. A concurrent duplicate loses on the key, and its caller replays.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts import mails, passes, plans, selfservice, vehicles
from evhub.accounts.config import AccountConfig
from evhub.accounts.models import Driver, Order
from evhub.errors import Conflict
from evhub.events import emit
from evhub.mail.outbox import queue_mail


@dataclass(frozen=True)
class OrderRequest:
    reference: str
    plan: str
    buyer_name: str
    buyer_email: str
    model_id: int
    vin: str | None = None
    plate: str | None = None
    rfid_card: bool = True

    def digest(self) -> str:
        canonical = json.dumps(self.__dict__, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


async def find_order(session: AsyncSession, reference: str) -> Order | None:
    return await session.scalar(select(Order).where(Order.reference == reference))


async def place_order(
    session: AsyncSession, config: AccountConfig, order: OrderRequest, now: datetime
) -> tuple[dict[str, Any], bool]:
    """The order's result, and whether this call created it (False: a replay)."""
    digest = order.digest()
    existing = await find_order(session, order.reference)
    if existing is not None:
        if existing.body_digest != digest:
            raise Conflict(
                f"order {order.reference!r} was placed already with another content",
                order=existing.result,
            )
        return existing.result, False
    plan = await plans.plan_by_code(session, order.plan)
    model = await vehicles.get_model(session, order.model_id)
    driver, created = await _account_for(session, order, now)
    await plans.assign_plan(session, driver, plan.code)
    vehicle = await vehicles.vehicle_by_vin(session, order.vin) if order.vin else None
    if vehicle is not None and vehicle.driver_id != driver.id:
        raise Conflict(f"a vehicle with VIN {order.vin} belongs to another account")
    if vehicle is None:
        vehicle = await vehicles.add_vehicle(
            session, driver.id, model.id, now, order.plate, order.vin
        )
    token = await passes.issue_app_token(
        session, driver, config.country_code, config.provider_id, now
    )
    card = await passes.request_card(session, driver, now) if order.rfid_card else None
    result: dict[str, Any] = {
        "reference": order.reference,
        "driver_id": driver.id,
        "account_created": created,
        "plan": plan.code,
        "vehicle_id": vehicle.id,
        "contract_id": token.contract_id,
        "app_token_uid": token.uid,
        "card": None if card is None else {"id": card.id, "state": card.state},
        "created_at": now.isoformat(),
    }
    session.add(
        Order(reference=order.reference, body_digest=digest, driver_id=driver.id,
              result=result, created_at=now)
    )  # fmt: skip
    await session.flush()  # the unique reference: a concurrent duplicate fails here
    link = (
        selfservice.password_link(config, driver, now + config.welcome_ttl)
        if driver.password_hash is None
        else None
    )
    vehicle_name = f"{model.make} {model.model}"
    subject, body = mails.welcome(
        driver.name, plan.name, vehicle_name, str(token.contract_id), link
    )
    assert driver.email is not None
    await queue_mail(session, "welcome", driver.email, subject, body, now)
    emit(session, "order.placed", now, reference=order.reference, driver_id=driver.id)
    return result, True


async def _account_for(
    session: AsyncSession, order: OrderRequest, now: datetime
) -> tuple[Driver, bool]:
    driver = await selfservice.driver_by_email(session, order.buyer_email)
    if driver is not None:
        return driver, False
    driver = Driver(
        name=order.buyer_name.strip(),
        email=selfservice.normalise_email(order.buyer_email),
        user_group="visitor",
        created_at=now,
    )
    session.add(driver)
    await session.flush()
    emit(session, "driver.created", now, driver_id=driver.id, by="order")
    return driver, True
