"""Driver self-service: sign-up with a verification mail, sign-in sessions, password reset
by a link that works once and expires; blocking one's own card."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from evhub.accounts import contract_ids, passes, selfservice, service
from evhub.accounts.errors import EmailNotVerified, LinkExpired, NotSignedIn
from evhub.errors import Conflict, InvalidInput, NotFound
from evhub.mail.models import OutboxMail
from evhub.uow import UnitOfWork
from tests.unit.accounts.conftest import CONFIG, NOW

PASSWORD = "correct horse battery"


async def last_link(uow: UnitOfWork, path: str) -> str:
    async with uow() as s:
        mail = (await s.execute(select(OutboxMail).order_by(OutboxMail.id.desc()))).scalars()
        body = next(iter(mail)).body
    found = re.search(rf"{re.escape(CONFIG.base_url + path)}\?token=(\S+)", body)
    assert found is not None, body
    return found.group(1)


async def signed_up(uow: UnitOfWork) -> int:
    async with uow() as s:
        driver = await selfservice.sign_up(s, CONFIG, "Ada", "Ada@Example.org", PASSWORD, NOW)
    return driver.id


async def test_sign_up_verify_and_sign_in(uow: UnitOfWork) -> None:
    driver_id = await signed_up(uow)
    with pytest.raises(EmailNotVerified):
        async with uow() as s:
            await selfservice.sign_in(s, CONFIG, "ada@example.org", PASSWORD, NOW)
    token = await last_link(uow, "/account/verify")
    async with uow() as s:
        driver = await selfservice.verify_email(s, CONFIG, token, NOW)
        assert driver.id == driver_id and driver.email_verified_at == NOW
        tokens = await passes.tokens_of(s, driver_id)
    assert [(t.type, t.status) for t in tokens] == [("eMAID", "Accepted")]
    assert contract_ids.parse(tokens[0].contract_id or "").compact == tokens[0].uid
    async with uow() as s:
        _, record = await selfservice.sign_in(s, CONFIG, " ADA@example.org ", PASSWORD, NOW)
    async with uow() as s:
        assert (await selfservice.driver_for_session(s, record.id, NOW)) is not None
        await selfservice.sign_out(s, record.id, NOW)
    async with uow() as s:
        assert (await selfservice.driver_for_session(s, record.id, NOW)) is None


async def test_wrong_password_or_address_or_a_taken_address(uow: UnitOfWork) -> None:
    await signed_up(uow)
    for email, password in (("ada@example.org", "wrong password"), ("bo@example.org", PASSWORD)):
        with pytest.raises(NotSignedIn):
            async with uow() as s:
                await selfservice.sign_in(s, CONFIG, email, password, NOW)
    with pytest.raises(Conflict):
        async with uow() as s:
            await selfservice.sign_up(s, CONFIG, "Eve", "ADA@example.org", PASSWORD, NOW)
    with pytest.raises(InvalidInput, match="8 characters"):
        async with uow() as s:
            await selfservice.sign_up(s, CONFIG, "Bo", "bo@example.org", "short", NOW)


async def test_a_verification_link_expires_and_cannot_be_forged(uow: UnitOfWork) -> None:
    await signed_up(uow)
    token = await last_link(uow, "/account/verify")
    with pytest.raises(LinkExpired):
        async with uow() as s:
            await selfservice.verify_email(s, CONFIG, token, NOW + CONFIG.verify_ttl)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    other_secret = replace(CONFIG, secret=b"x" * 48)
    for config, candidate in ((CONFIG, forged), (other_secret, token), (CONFIG, "1.2")):
        with pytest.raises(InvalidInput):
            async with uow() as s:
                await selfservice.verify_email(s, config, candidate, NOW)


async def test_a_reset_link_works_once_and_revokes_the_sessions(uow: UnitOfWork) -> None:
    await signed_up(uow)
    async with uow() as s:
        await selfservice.verify_email(s, CONFIG, await last_link(uow, "/account/verify"), NOW)
    async with uow() as s:
        _, record = await selfservice.sign_in(s, CONFIG, "ada@example.org", PASSWORD, NOW)
    async with uow() as s:
        await selfservice.request_password_reset(s, CONFIG, "ada@example.org", NOW)
        await selfservice.request_password_reset(s, CONFIG, "nobody@example.org", NOW)
    token = await last_link(uow, "/account/password")
    later = NOW + timedelta(minutes=5)
    async with uow() as s:
        await selfservice.set_password(s, CONFIG, token, "a new password", later)
    with pytest.raises(InvalidInput, match="used already"):
        async with uow() as s:
            await selfservice.set_password(s, CONFIG, token, "yet another one", later)
    async with uow() as s:
        assert (await selfservice.driver_for_session(s, record.id, later)) is None
        mails = (await s.execute(select(OutboxMail.kind))).scalars().all()
    assert mails == ["verification", "password_reset"]  # none for the unknown address
    async with uow() as s:
        await selfservice.sign_in(s, CONFIG, "ada@example.org", "a new password", later)


async def test_a_driver_blocks_and_unblocks_a_card_but_not_an_operator_block(
    uow: UnitOfWork,
) -> None:
    driver_id = await signed_up(uow)
    async with uow() as s:
        driver = await selfservice.verify_email(
            s, CONFIG, await last_link(uow, "/account/verify"), NOW
        )
        card = await passes.request_card(s, driver, NOW)
        _, token = await passes.post_card(s, card.id, "04A1B2C3D4", NOW, "FR", "EVH")
    async with uow() as s:
        blocked = await passes.set_status_by_driver(s, driver_id, "04A1B2C3D4", "Blocked", NOW)
        assert (blocked.status, blocked.blocked_by) == ("Blocked", "driver")
    async with uow() as s:
        back = await passes.set_status_by_driver(s, driver_id, "04A1B2C3D4", "Accepted", NOW)
        assert back.status == "Accepted" and back.contract_id == driver.contract_id
    async with uow() as s:
        await service.update_token_status(s, "04A1B2C3D4", "Blocked")
    with pytest.raises(Conflict, match="operator"):
        async with uow() as s:
            await passes.set_status_by_driver(s, driver_id, "04A1B2C3D4", "Accepted", NOW)
    with pytest.raises(NotFound):
        async with uow() as s:
            await passes.set_status_by_driver(s, driver_id + 1, "04A1B2C3D4", "Blocked", NOW)
    with pytest.raises(Conflict, match="posted already"):
        async with uow() as s:
            await passes.post_card(s, card.id, "04FFFFFFFF", NOW, "FR", "EVH")
