"""REST routes of a driver's vehicle-to-grid choice from the phone (`/me/v2g`, the driver's
bearer token): the JSON twin of the V2G page, read by `v2g_account` and written by the same
rule and service as the page's form (`v2x_settings.check`, `v2x_settings.save`), the choice
and its event in the request's one transaction."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession

from evhub.accounts.driver_deps import CurrentDriver
from evhub.deps import ClockDep, ReadSessionDep, SessionDep
from evhub.openapi import error_responses
from evhub.planning import v2g_account, v2x_settings
from evhub.planning.schemas import AmountOut, V2gAccountOut, V2gChargeOut, V2gChoiceIn
from evhub.settings import Settings

router = APIRouter(tags=["driver charging"])


async def _out(
    session: AsyncSession, request: Request, driver_id: int, clock: ClockDep
) -> V2gAccountOut:
    settings: Settings = request.app.state.settings
    account = await v2g_account.account_of(session, settings, driver_id, clock.now())
    return V2gAccountOut(
        consent=account.consent, min_soc_pct=account.min_soc_pct,
        target_soc_pct=account.target_soc_pct,
        earned=AmountOut(amount=account.earned, currency=account.currency),
        charges=[
            V2gChargeOut(transaction_id=c.transaction_pk, station_id=c.station_id,
                         started_at=c.started_at, soc_pct=c.soc_pct, protocol=c.protocol,
                         consent=c.consent, can_discharge=c.can_discharge)
            for c in account.charges
        ],
    )  # fmt: skip


@router.get("/me/v2g", response_model=V2gAccountOut, responses=error_responses(401, 403))
async def my_v2g(
    driver: CurrentDriver, session: ReadSessionDep, request: Request, clock: ClockDep
) -> V2gAccountOut:
    """What the V2G page shows: the standing choice, the running charges, this month's credit."""
    return await _out(session, request, driver.driver_id, clock)


@router.put("/me/v2g", response_model=V2gAccountOut, responses=error_responses(401, 403, 422))
async def set_my_v2g(
    body: V2gChoiceIn,
    driver: CurrentDriver,
    session: SessionDep,
    request: Request,
    clock: ClockDep,
) -> V2gAccountOut:
    """Keep the choice and apply it to the driver's running charges (re-planned at once).
    422: a floor or target outside 0-100 %, or a floor above the target."""
    choice = v2x_settings.check(body.consent, body.min_soc_pct, body.target_soc_pct)
    await v2x_settings.save(session, driver.driver_id, choice, clock.now())
    return await _out(session, request, driver.driver_id, clock)
