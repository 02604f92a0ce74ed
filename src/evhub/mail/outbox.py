"""Queueing a mail: a row of the mail outbox and its `mail.queued` event, in the transaction
of the fact that causes the mail, so that a mail is sent if and only if its cause commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from evhub.events import emit
from evhub.mail.models import OutboxMail


async def queue_mail(
    session: AsyncSession, kind: str, to: str, subject: str, body: str, now: datetime
) -> OutboxMail:
    mail = OutboxMail(
        kind=kind, to_address=to, subject=subject, body=body, created_at=now, attempts=0
    )
    session.add(mail)
    await session.flush()
    emit(session, "mail.queued", now, mail_id=mail.id, mail_kind=kind)
    return mail
