"""REST routes: a site's current plan, and drivers' declared needs."""

from __future__ import annotations

from fastapi import APIRouter, Request

from evhub.auth.deps import OPERATOR, VIEWER
from evhub.charging import service as charging
from evhub.deps import ClockDep, SessionDep
from evhub.errors import InvalidInput
from evhub.events import emit
from evhub.params import DbId
from evhub.planning import demand, v2x_needs
from evhub.planning.live import SitePlan
from evhub.planning.loop import PlanningLoop
from evhub.planning.models import ChargingNeed
from evhub.planning.schemas import NeedIn, NeedOut, PlannedSession, SitePlanOut
from evhub.planning.v2x_needs import DriverV2x

router = APIRouter(tags=["smart charging"])


def plan_out(p: SitePlan) -> SitePlanOut:
    totals = _per_slot(tuple((str(a.running.tx_pk), a.power_kw) for a in p.allocations))
    return SitePlanOut(
        site_id=p.site_id, computed_at=p.computed_at, start=p.start, slot_minutes=p.slot_minutes,
        grid_limit_kw=p.grid_limit_kw, capacity_kw=p.capacity_kw, algorithm=p.algorithm,
        status=p.status, solve_ms=round(p.solve_ms, 2),
        measured_load_kw=round(p.measured_load_kw, 3),
        planned_load_kw=totals,
        reserved_kw=_per_slot(p.reserved),
        idle_allowance_kw=sum(p.idle_allowance_kw.values()),
        uncontrolled_kw=sum(p.uncontrolled_kw.values()),
        sessions=[
            PlannedSession(
                transaction_id=a.running.tx_pk, station_id=a.running.evse.station_id,
                evse_id=a.running.evse.evse_id, need_kwh=a.running.need.declared_kwh,
                remaining_kwh=a.running.need.remaining_kwh, departure=a.running.need.departure_at,
                need_source=a.running.need.source, max_power_kw=a.max_power_kw, limit_kw=a.limit_kw,
                measured_kw=a.running.measured_kw, allocated_kw=list(a.power_kw),
            )
            for a in p.allocations
        ],
    )  # fmt: skip


def _per_slot(rows: tuple[tuple[str, tuple[float, ...]], ...]) -> list[float]:
    horizon = max((len(row) for _, row in rows), default=0)
    return [round(sum(row[k] for _, row in rows if k < len(row)), 3) for k in range(horizon)]


@router.get("/sites/{site_id}/plan", response_model=SitePlanOut, dependencies=[VIEWER])
async def site_plan(site_id: DbId, request: Request) -> SitePlanOut:
    """The site's current plan (computed now if there is none yet) and its measured load."""
    loop: PlanningLoop = request.app.state.planner
    current = loop.plans.get(site_id) or await loop.preview(site_id)
    return plan_out(current)


@router.put("/transactions/{transaction_id}/need", response_model=NeedOut, dependencies=[OPERATOR])
async def declare_need(
    transaction_id: DbId, body: NeedIn, session: SessionDep, clock: ClockDep
) -> NeedOut:
    """What the driver wants: the planner re-plans the site at once. `v2g_consent` lets a car
    on an OCPP 2.1 bidirectional EVSE feed the grid, never below `min_soc_pct`."""
    if body.departure is not None and body.departure.tzinfo is None:
        raise InvalidInput("departure needs a time zone offset")
    tx = await charging.get_transaction(session, transaction_id)
    now = clock.now()
    need = None
    if body.energy_kwh is not None:
        need = await demand.declare(
            session, transaction_id, now, "driver", body.energy_kwh, body.departure
        )
    else:
        need = await session.get(ChargingNeed, transaction_id)
    driver = DriverV2x(body.v2g_consent, body.min_soc_pct, body.target_soc_pct)
    v2x = await v2x_needs.declare_driver(session, transaction_id, driver, now)
    emit(session, "need.declared", now, station_id=tx.station_id, transaction_id=tx.id)
    return NeedOut(
        transaction_id=transaction_id,
        energy_kwh=need.energy_kwh if need else None,
        departure_at=need.departure_at if need else None,
        source=need.source if need else None,
        v2g_consent=v2x.consent, min_soc_pct=v2x.min_soc_pct, target_soc_pct=v2x.target_soc_pct,
    )  # fmt: skip
