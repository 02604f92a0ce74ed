"""Every table of every domain, gathered for Alembic's autogeneration and checks."""

from evhub.accounts.models import (
    CardShipment,
    Driver,
    DriverSession,
    Order,
    Plan,
    Token,
    Vehicle,
    VehicleModel,
)
from evhub.assets.models import Connector, Evse, Site, Station, StationEvent, StatusRecord
from evhub.auth.models import ApiKey, ConsoleSession, User
from evhub.billing.models import TariffRecord
from evhub.carsharing.models import (
    CarBooking,
    CarBookingFee,
    CarsharingMember,
    ConditionReport,
    FleetVehicle,
    HubV2xSettings,
    ReportPhoto,
    Trip,
)
from evhub.charging.models import MeterValue, Transaction, TransactionEvent
from evhub.cluster.models import ClusterNode, StationPresence
from evhub.db import Base
from evhub.events.models import ConsumerCheckpoint, OutboxEvent
from evhub.ledger.models import JournalEntry, JournalLine
from evhub.mail.models import OutboxMail
from evhub.maintenance.models import Ticket
from evhub.payments.models import (
    ChargedCdr,
    Payment,
    PaymentOperation,
    SepaMandate,
    Settlement,
)
from evhub.planning.models import ChargingNeed
from evhub.prices.models import DayAheadPrice, SiteEnergyCost
from evhub.reporting.models import IrveOperator, IrvePointDetails, IrveSiteDetails
from evhub.reservations.models import AccessWindow, Booking, SiteHoliday
from evhub.roaming.models import Authorization as RoamingAuthorization
from evhub.roaming.models import Command as RoamingCommand
from evhub.roaming.models import Delivery as RoamingDelivery
from evhub.roaming.models import (
    LocationDetails,
    Partner,
    PartnerEndpoint,
    PartnerRole,
    PullCheckpoint,
    RemoteObject,
    RoamingToken,
)
from evhub.roaming.models import Session as RoamingSession

metadata = Base.metadata

__all__ = [
    "OutboxMail",
    "VehicleModel",
    "Vehicle",
    "Plan",
    "Order",
    "DriverSession",
    "CardShipment",
    "AccessWindow",
    "ApiKey",
    "Booking",
    "CarBooking",
    "CarBookingFee",
    "CarsharingMember",
    "ClusterNode",
    "ChargingNeed",
    "ConditionReport",
    "Connector",
    "ConsumerCheckpoint",
    "ConsoleSession",
    "DayAheadPrice",
    "Driver",
    "Evse",
    "FleetVehicle",
    "HubV2xSettings",
    "IrveOperator",
    "IrvePointDetails",
    "IrveSiteDetails",
    "LocationDetails",
    "MeterValue",
    "OutboxEvent",
    "ReportPhoto",
    "Partner",
    "PartnerEndpoint",
    "PartnerRole",
    "PullCheckpoint",
    "RemoteObject",
    "RoamingAuthorization",
    "RoamingCommand",
    "RoamingDelivery",
    "RoamingSession",
    "RoamingToken",
    "Site",
    "SiteEnergyCost",
    "SiteHoliday",
    "Station",
    "StationPresence",
    "StationEvent",
    "StatusRecord",
    "TariffRecord",
    "Ticket",
    "Token",
    "Transaction",
    "TransactionEvent",
    "Trip",
    "User",
    "ChargedCdr",
    "JournalEntry",
    "JournalLine",
    "Payment",
    "PaymentOperation",
    "SepaMandate",
    "Settlement",
    "metadata",
]
