"""The mailer port, and its implementation over SMTP (aiosmtplib)."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

import aiosmtplib

from evhub.settings import Settings


class MailRefused(Exception):
    """The server refused the message for good (a 5xx reply): retrying will not help."""


class Mailer(Protocol):
    async def send(self, to: str, subject: str, body: str, message_id: str) -> None:
        """Hand the message to the mail server; raises on failure (MailRefused: permanent)."""
        ...


@dataclass(frozen=True)
class SmtpMailer:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    use_tls: bool = False  # implicit TLS (port 465)
    start_tls: bool = False  # STARTTLS after connecting (port 587)
    timeout_s: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpMailer | None:
        """None when no SMTP host is set: mails then wait in the outbox."""
        if not settings.smtp_host:
            return None
        return cls(
            settings.smtp_host, settings.smtp_port, settings.smtp_from, settings.smtp_username,
            settings.smtp_password, settings.smtp_use_tls, settings.smtp_starttls,
            settings.smtp_timeout_s,
        )  # fmt: skip

    async def send(self, to: str, subject: str, body: str, message_id: str) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        # The same id on every attempt: a receiving system may drop a resent duplicate.
        message["Message-ID"] = message_id
        message.set_content(body)
        try:
            await aiosmtplib.send(
                message,
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                use_tls=self.use_tls,
                start_tls=self.start_tls,
                timeout=self.timeout_s,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            if all(500 <= e.code < 600 for e in exc.recipients):
                raise MailRefused(str(exc)) from exc
            raise
        except (aiosmtplib.SMTPRecipientRefused, aiosmtplib.SMTPDataError) as exc:
            # A refusal of this recipient or this message; a refused sender or login is the
            # configuration's fault and is retried until it is fixed.
            if 500 <= exc.code < 600:
                raise MailRefused(f"{exc.code} {exc.message}") from exc
            raise
