"""REST routes of connected cars: their reports, and the tokens their makers' clouds send."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, status

from evhub.accounts import vehicles
from evhub.accounts.driver_deps import CurrentDriver
from evhub.auth.deps import OPERATOR
from evhub.deps import ClockDep, SessionDep
from evhub.errors import NotFound
from evhub.openapi import error_responses
from evhub.params import DbId
from evhub.planning import telemetry
from evhub.planning.schemas import TelemetryIn, TelemetryOut, TelemetryTokenOut
from evhub.planning.telemetry import Reading

router = APIRouter(tags=["connected cars"])


async def authenticated_car(
    vehicle_id: DbId,
    session: SessionDep,
    authorization: Annotated[str | None, Header()] = None,
) -> int:
    """The car of the route, when the request carries its own telemetry token (not an API key,
    not a driver's session: a car maker's cloud holds only this)."""
    scheme, _, token = (authorization or "").partition(" ")
    await telemetry.check_token(
        session, vehicle_id, token.strip() if scheme.lower() == "bearer" else None
    )
    return vehicle_id


AuthenticatedCar = Annotated[int, Depends(authenticated_car)]


@router.post(
    "/vehicles/{vehicle_id}/telemetry",
    response_model=TelemetryOut,
    responses=error_responses(401, 404),
)
async def report_telemetry(
    vehicle_id: AuthenticatedCar, body: TelemetryIn, session: SessionDep, clock: ClockDep
) -> TelemetryOut:
    """A car's state from its maker's cloud (`Authorization: Bearer evt_...`, the car's own
    token). A report measured before the one stored is acknowledged and ignored (`stored`
    false); the planner re-plans the charge it belongs to."""
    reading = Reading(body.measured_at, body.soc_pct, body.plugged_in, body.target_soc_pct,
                      body.departure_at)  # fmt: skip
    recorded = await telemetry.record(session, vehicle_id, reading, clock.now())
    return TelemetryOut(
        vehicle_id=vehicle_id, measured_at=body.measured_at, stored=recorded.stored,
        transaction_id=recorded.transaction_pk,
    )  # fmt: skip


@router.post(
    "/vehicles/{vehicle_id}/telemetry-token",
    status_code=status.HTTP_201_CREATED,
    response_model=TelemetryTokenOut,
    dependencies=[OPERATOR],
    responses=error_responses(404),
)
async def issue_token(vehicle_id: DbId, session: SessionDep, clock: ClockDep) -> TelemetryTokenOut:
    """A new telemetry token for the car (the one before stops working)."""
    now = clock.now()
    token = await telemetry.issue_token(session, vehicle_id, "operator", now)
    return TelemetryTokenOut(vehicle_id=vehicle_id, token=token, issued_at=now)


@router.post(
    "/me/vehicles/{vehicle_id}/telemetry-token",
    status_code=status.HTTP_201_CREATED,
    response_model=TelemetryTokenOut,
    responses=error_responses(401, 403, 404),
)
async def issue_my_token(
    vehicle_id: DbId, driver: CurrentDriver, session: SessionDep, clock: ClockDep
) -> TelemetryTokenOut:
    """A new telemetry token for one of the driver's cars, to give to its maker's cloud."""
    if vehicle_id not in {v.id for v, _ in await vehicles.vehicles_of(session, driver.driver_id)}:
        raise NotFound(f"vehicle {vehicle_id} not found")
    now = clock.now()
    token = await telemetry.issue_token(session, vehicle_id, "driver", now)
    return TelemetryTokenOut(vehicle_id=vehicle_id, token=token, issued_at=now)
