"""REST shapes of tickets and availability figures."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from evhub.maintenance.availability import Figures
from evhub.maintenance.models import Severity, TicketCause, TicketState
from evhub.maintenance.uptime import AvailabilityReport


class TicketOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    station_id: str
    evse_id: int | None
    connector_id: int | None
    transaction_id: int | None
    cause: TicketCause
    severity: Severity
    detail: str
    state: TicketState
    first_seen: datetime
    last_seen: datetime
    count: int
    closed_at: datetime | None
    downtime_s: float | None
    closed_by: str | None
    note: str | None


class TicketClose(BaseModel):
    note: str = Field(min_length=1, max_length=2000)
    closed_by: str = Field(default="technician", min_length=1, max_length=64)


class FiguresOut(BaseModel):
    total_s: float = Field(description="Seconds in the period, summed over connectors.")
    known_s: float
    unknown_s: float = Field(description="Time with no known state; left out of the ratio.")
    available_s: float
    unavailable_s: float
    availability_pct: float | None = Field(description="available_s / known_s, in percent.")
    downtime_by_cause: dict[str, float]

    @classmethod
    def of(cls, f: Figures) -> FiguresOut:
        return cls(
            total_s=f.total_s,
            known_s=f.known_s,
            unknown_s=f.unknown_s,
            available_s=f.available_s,
            unavailable_s=f.unavailable_s,
            availability_pct=f.availability_pct,
            downtime_by_cause=dict(sorted(f.downtime_s.items())),
        )


class SiteAvailability(BaseModel):
    site_id: int
    name: str
    town: str
    figures: FiguresOut


class StationAvailability(BaseModel):
    station_id: str
    site_id: int
    figures: FiguresOut


class ConnectorAvailability(BaseModel):
    station_id: str
    evse_id: int
    connector_id: int
    figures: FiguresOut


class AvailabilityOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    period_from: datetime = Field(alias="from")
    period_to: datetime = Field(alias="to")
    total: FiguresOut
    sites: list[SiteAvailability]
    stations: list[StationAvailability]
    connectors: list[ConnectorAvailability]

    @classmethod
    def of(cls, report: AvailabilityReport) -> AvailabilityOut:
        return cls(
            period_from=report.period.start,
            period_to=report.period.end,
            total=FiguresOut.of(report.total),
            sites=[
                SiteAvailability(
                    site_id=s.site_id, name=s.site_name, town=s.town, figures=FiguresOut.of(f)
                )
                for s, f in report.sites
            ],
            stations=[
                StationAvailability(
                    station_id=s.station_id, site_id=s.site_id, figures=FiguresOut.of(f)
                )
                for s, f in report.stations
            ],
            connectors=[
                ConnectorAvailability(
                    station_id=k[0], evse_id=k[1], connector_id=k[2], figures=FiguresOut.of(f)
                )
                for k, f in sorted(report.connectors.items())
            ],
        )
