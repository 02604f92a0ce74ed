"""A real SMTP server on a loopback port (aiosmtpd), keeping what it receives for tests.

aiosmtpd serves on its own thread and event loop; each message is handed to the test's loop
through a queue, so that a test awaits the next mail instead of polling for it."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

REFUSED_PREFIX = "refused"  # a recipient whose address starts so gets a permanent 550


@dataclass
class MailCatcher:
    port: int
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[EmailMessage] = field(default_factory=asyncio.Queue)
    received: list[EmailMessage] = field(default_factory=list)

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address.startswith(REFUSED_PREFIX):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.loop.call_soon_threadsafe(self._deliver, message)
        return "250 Message accepted for delivery"

    def _deliver(self, message: EmailMessage) -> None:
        self.received.append(message)
        self.queue.put_nowait(message)

    async def next_mail(self, timeout_s: float = 20.0) -> EmailMessage:
        async with asyncio.timeout(timeout_s):
            return await self.queue.get()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def smtp_server(port: int | None = None) -> Iterator[MailCatcher]:
    catcher = MailCatcher(port or free_port(), asyncio.get_running_loop())
    controller = Controller(catcher, hostname="127.0.0.1", port=catcher.port)
    controller.start()
    try:
        yield catcher
    finally:
        controller.stop()


def link_in(message: EmailMessage, path: str) -> str:
    """The path and query of the link to `path` in a mail's text (the host may differ)."""
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    found = re.search(rf"https?://[^/\s]+({re.escape(path)}\?token=\S+)", text)
    assert found is not None, text
    return found.group(1)
