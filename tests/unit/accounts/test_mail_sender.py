"""The mail outbox delivered to a real SMTP server: sent once and marked, kept and retried
while the server is down, given up (not retried) when it refuses the recipient for good."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from evhub.clock import FrozenClock
from evhub.events import Event
from evhub.mail.models import OutboxMail
from evhub.mail.outbox import queue_mail
from evhub.mail.sender import MailSender
from evhub.mail.smtp import SmtpMailer
from evhub.uow import UnitOfWork
from tests.mail_catcher import free_port, smtp_server
from tests.unit.accounts.conftest import NOW


async def queued(uow: UnitOfWork, to: str) -> Event:
    async with uow() as s:
        mail = await queue_mail(s, "test", to, "Hello", "Body text\n", NOW)
    return Event("mail.queued", NOW, {"mail_id": mail.id, "mail_kind": "test"})


async def row(uow: UnitOfWork, event: Event) -> OutboxMail:
    async with uow() as s:
        mail = await s.scalar(select(OutboxMail).where(OutboxMail.id == event.data["mail_id"]))
    assert mail is not None
    return mail


async def test_a_mail_waits_for_a_server_that_is_down_then_goes_once(uow: UnitOfWork) -> None:
    port = free_port()
    mailer = SmtpMailer("127.0.0.1", port, "evhub <no-reply@hub.test>", timeout_s=5)
    sender = MailSender(uow, FrozenClock(NOW), mailer, "hub.test")
    event = await queued(uow, "ada@example.org")
    with pytest.raises(OSError):
        await sender.handle(event)  # the relay retries it with back-off
    down = await row(uow, event)
    assert (down.attempts, down.sent_at) == (1, None) and down.last_error
    with smtp_server(port) as smtp:
        await sender.handle(event)
        mail = await smtp.next_mail()
        await sender.handle(event)  # delivered again by the relay: not sent twice
    assert (mail["To"], mail["Subject"], mail["Message-ID"]) == (
        "ada@example.org", "Hello", f"<mail-{event.data['mail_id']}@hub.test>",
    )  # fmt: skip
    assert len(smtp.received) == 1
    sent = await row(uow, event)
    assert (sent.attempts, sent.sent_at, sent.last_error) == (2, NOW, None)


async def test_a_recipient_refused_for_good_is_given_up(uow: UnitOfWork) -> None:
    with smtp_server() as smtp:
        mailer = SmtpMailer("127.0.0.1", smtp.port, "no-reply@hub.test", timeout_s=5)
        sender = MailSender(uow, FrozenClock(NOW), mailer)
        event = await queued(uow, "refused@example.org")
        await sender.handle(event)  # no exception: the mails behind it are not held back
        after = await queued(uow, "bo@example.org")
        await sender.handle(after)
        assert (await smtp.next_mail())["To"] == "bo@example.org"
    failed = await row(uow, event)
    assert failed.sent_at is None and failed.failed_at == NOW
    assert "550" in (failed.last_error or "")
