"""Vehicle-to-grid for the shared fleet: a shared car plugged in at its hub between bookings may
feed the grid under the same guarantees as a driver's car.

Consent is the operator's, per hub (`HubV2xSettings`, off until the operator turns it on); the
floor is the hub's, else the `carsharing_v2g_min_soc_pct` setting; the target is the state of
charge that holds the energy of the next booking's distance (`readiness.energy_for_km`, margin
included); the departure is that booking's start. The planner then keeps the battery above the
floor and has the target in by the booking (`planning.v2x_needs.bounds`), and only on an OCPP 2.1
bidirectional EVSE with a car that asked for a bidirectional transfer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.assets import service as assets
from evhub.carsharing.models import FleetVehicle, HubV2xSettings
from evhub.carsharing.policy import CarsharingPolicy
from evhub.events import emit
from evhub.planning import v2x_settings
from evhub.planning.v2x_needs import DriverV2x


@dataclass(frozen=True)
class HubV2x:
    site_id: int
    consent: bool
    min_soc_pct: float  # in force: the hub's own, else the default
    own_floor: bool  # False: the default floor applies


async def hub_v2x(session: AsyncSession, site_id: int, policy: CarsharingPolicy) -> HubV2x:
    row = await session.get(HubV2xSettings, site_id, populate_existing=True)
    if row is None or row.min_soc_pct is None:
        return HubV2x(site_id, bool(row and row.consent), policy.v2g_min_soc_pct, False)
    return HubV2x(site_id, row.consent, row.min_soc_pct, True)


async def save_hub_v2x(
    session: AsyncSession,
    site_id: int,
    consent: bool,
    min_soc_pct: float | None,
    now: datetime,
    policy: CarsharingPolicy,
) -> HubV2x:
    """Keep the operator's choice for the hub (the drivers' rule on a floor), with its event,
    which makes the planner re-plan the hub at once."""
    await assets.get_site(session, site_id)  # NotFound for a hub that does not exist
    v2x_settings.check(consent, min_soc_pct, None)
    values: dict[str, Any] = {"consent": consent, "min_soc_pct": min_soc_pct, "updated_at": now}
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(HubV2xSettings).values(site_id=site_id, **values)
    await session.execute(statement.on_conflict_do_update(index_elements=["site_id"], set_=values))
    emit(session, "carsharing.v2x_settings_changed", now, site_id=site_id, consent=consent,
         min_soc_pct=min_soc_pct)  # fmt: skip
    return await hub_v2x(session, site_id, policy)


def choice_for(hub: HubV2x, vehicle: FleetVehicle, want_kwh: float) -> DriverV2x:
    """The operator's choice for one car: the hub's consent and floor, the booking's energy
    as target (never below the floor: `bounds` keeps the higher)."""
    battery = vehicle.battery_kwh or 0.0
    target = min(100.0, 100.0 * want_kwh / battery) if battery > 0 else None
    return DriverV2x(hub.consent, hub.min_soc_pct, target)
