"""The services container: what the application's parts share, built once in `app.py`.

Domains receive what they need of it through FastAPI dependencies (`evhub.deps`) or as
constructor arguments of their loops; nothing reaches into the OCPP gateway's context, which
serves the gateway only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from evhub.clock import Clock
from evhub.control import ChargerControl
from evhub.events.log import EventLog
from evhub.events.relay import Relay
from evhub.mail.smtp import Mailer
from evhub.payments.port import NoProvider, PaymentProvider
from evhub.settings import Settings
from evhub.uow import UnitOfWork


@dataclass
class Services:
    settings: Settings
    clock: Clock
    uow: UnitOfWork
    # Read-only sessions: on SQLite their own connections, beside the writer's (WAL).
    read_sessions: async_sessionmaker[AsyncSession]
    events: EventLog
    relay: Relay
    control: ChargerControl
    # Mail to drivers; None without an SMTP server (mails then wait in the outbox).
    mailer: Mailer | None = None
    payments: PaymentProvider = field(default_factory=NoProvider)
