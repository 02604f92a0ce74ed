"""Delivering the mail outbox: a consumer of `mail.queued` events.

At least once: the mail is marked sent after the server took it, so a crash between the two
sends it again (with the same Message-ID). A failure is retried by the relay with back-off; a
permanent refusal of the recipient marks the mail failed instead, so that it does not hold
back the mails behind it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from evhub.clock import Clock
from evhub.events import Event
from evhub.events.relay import Consumer
from evhub.mail.models import OutboxMail
from evhub.mail.smtp import Mailer, MailRefused
from evhub.uow import UnitOfWork

log = logging.getLogger("evhub.mail")


@dataclass
class MailSender:
    uow: UnitOfWork
    clock: Clock
    mailer: Mailer
    domain: str = "evhub.invalid"

    def consumer(self) -> Consumer:
        return Consumer("mail.sender", self.handle, frozenset({"mail.queued"}))

    async def handle(self, event: Event) -> None:
        mail_id = int(event.data["mail_id"])
        async with self.uow() as session:
            mail = await session.get(OutboxMail, mail_id)
            if mail is None or mail.sent_at is not None or mail.failed_at is not None:
                return
            mail.attempts += 1
            to, subject, body = mail.to_address, mail.subject, mail.body
        try:
            await self.mailer.send(to, subject, body, f"<mail-{mail_id}@{self.domain}>")
        except MailRefused as exc:
            log.warning("event=mail_refused mail_id=%d reason=%s", mail_id, exc)
            await self._mark(mail_id, error=str(exc))
            return
        except Exception as exc:
            await self._mark(mail_id, error=f"{type(exc).__name__}: {exc}", final=False)
            raise
        await self._mark(mail_id)
        log.info("event=mail_sent mail_id=%d kind=%s", mail_id, event.data.get("mail_kind"))

    async def _mark(self, mail_id: int, error: str | None = None, final: bool = True) -> None:
        async with self.uow() as session:
            mail = await session.get(OutboxMail, mail_id)
            if mail is None:
                return
            mail.last_error = error
            if final and error is None:
                mail.sent_at = self.clock.now()
            elif final:
                mail.failed_at = self.clock.now()
