"""Every table of every domain, gathered for Alembic's autogeneration and checks."""

from evhub.accounts.models import Driver, Token
from evhub.assets.models import Connector, Evse, Site, Station, StationEvent, StatusRecord
from evhub.charging.models import MeterValue, Transaction, TransactionEvent
from evhub.db import Base

metadata = Base.metadata

__all__ = [
    "Connector",
    "Driver",
    "Evse",
    "MeterValue",
    "Site",
    "Station",
    "StationEvent",
    "StatusRecord",
    "Token",
    "Transaction",
    "TransactionEvent",
    "metadata",
]
