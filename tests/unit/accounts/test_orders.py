"""Orders: an account, a car and a pass per reference, exactly once; a replay answers the
same, another body under the same reference is a conflict."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from evhub.accounts import contract_ids, orders, service
from evhub.accounts.models import CardShipment, Driver, Order, Token, Vehicle
from evhub.errors import Conflict, NotFound
from evhub.mail.models import OutboxMail
from evhub.uow import UnitOfWork
from tests.unit.accounts.conftest import CONFIG, NOW

ORDER = orders.OrderRequest(
    reference="DEALER-42-2026-0001",
    plan="resident-night",
    buyer_name="Ada Lovelace",
    buyer_email="Ada@Example.org",
    model_id=1,
    vin="VF1AG000X12345678",
    plate="GA-123-BC",
)


async def counts(uow: UnitOfWork) -> dict[str, int]:
    async with uow() as s:
        return {
            t.__tablename__: int(await s.scalar(select(func.count()).select_from(t)) or 0)
            for t in (Driver, Order, Vehicle, Token, CardShipment, OutboxMail)
        }


async def test_an_order_opens_the_account_links_the_car_and_issues_the_pass(
    uow: UnitOfWork,
) -> None:
    async with uow() as s:
        result, created = await orders.place_order(s, CONFIG, ORDER, NOW)
    assert created and result["account_created"]
    contract = contract_ids.parse(result["contract_id"])  # the check digit holds
    assert result["app_token_uid"] == contract.compact
    assert result["card"]["state"] == "to_post"
    async with uow() as s:
        driver = await service.get_driver(s, result["driver_id"])
        assert (driver.email, driver.user_group, driver.password_hash) == (
            "ada@example.org", "resident", None,
        )  # fmt: skip
        mail = (await s.execute(select(OutboxMail))).scalar_one()
    assert mail.to_address == "ada@example.org" and mail.kind == "welcome"
    assert "/account/password?token=" in mail.body and result["contract_id"] in mail.body
    assert await counts(uow) == {
        "drivers": 1, "orders": 1, "vehicles": 1, "tokens": 1, "card_shipments": 1,
        "mail_outbox": 1,
    }  # fmt: skip


async def test_a_replay_answers_the_same_and_creates_nothing(uow: UnitOfWork) -> None:
    async with uow() as s:
        first, _ = await orders.place_order(s, CONFIG, ORDER, NOW)
    before = await counts(uow)
    async with uow() as s:
        again, created = await orders.place_order(s, CONFIG, ORDER, NOW)
    assert not created and again == first
    assert await counts(uow) == before


async def test_another_body_under_the_same_reference_is_a_conflict(uow: UnitOfWork) -> None:
    async with uow() as s:
        await orders.place_order(s, CONFIG, ORDER, NOW)
    before = await counts(uow)
    with pytest.raises(Conflict, match="another content"):
        async with uow() as s:
            await orders.place_order(s, CONFIG, replace(ORDER, plan="fleet"), NOW)
    assert await counts(uow) == before


async def test_a_second_car_for_a_known_buyer_finds_the_account(uow: UnitOfWork) -> None:
    async with uow() as s:
        first, _ = await orders.place_order(s, CONFIG, ORDER, NOW)
    second_car = replace(ORDER, reference="SHOP-7", vin="WVWZZZE1ZMP000001", model_id=6)
    async with uow() as s:
        second, created = await orders.place_order(s, CONFIG, second_car, NOW)
    assert created and not second["account_created"]
    assert second["driver_id"] == first["driver_id"]
    assert second["contract_id"] == first["contract_id"]  # one contract, one app token
    assert (await counts(uow))["vehicles"] == 2 and (await counts(uow))["tokens"] == 1


async def test_an_unknown_plan_or_model_creates_nothing(uow: UnitOfWork) -> None:
    for wrong in (replace(ORDER, plan="gold"), replace(ORDER, model_id=9999)):
        with pytest.raises(NotFound):
            async with uow() as s:
                await orders.place_order(s, CONFIG, wrong, NOW)
    assert set((await counts(uow)).values()) == {0}


async def test_the_reference_is_unique_in_the_database(uow: UnitOfWork) -> None:
    """The key itself, not only the look-up: a second row of a reference is refused."""
    async with uow() as s:
        result, _ = await orders.place_order(s, CONFIG, ORDER, NOW)
    with pytest.raises(IntegrityError):
        async with uow() as s:
            s.add(Order(reference=ORDER.reference, body_digest="x", driver_id=result["driver_id"],
                        result={}, created_at=NOW))  # fmt: skip
