"""REST routes of tariffs (thin: OCPI validation in `billing.tariff`, rules in the service)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, status

from evhub.auth.deps import ADMIN, VIEWER
from evhub.billing import service
from evhub.billing.tariff import Tariff, TariffBody
from evhub.deps import ClockDep, SessionDep
from evhub.settings import Settings

router = APIRouter(tags=["billing"])
TariffId = Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[ -~]+$")]


def _party(request: Request) -> service.Party:
    settings: Settings = request.app.state.settings
    return service.Party(settings.ocpi_country_code, settings.ocpi_party_id)


PartyDep = Annotated[service.Party, Depends(_party)]
# Responses (response_model_exclude_defaults) omit the optional fields a tariff leaves out,
# as OCPI objects do.


@router.post(
    "/tariffs",
    status_code=status.HTTP_201_CREATED,
    response_model=Tariff,
    dependencies=[ADMIN],
    response_model_exclude_defaults=True,
)
async def create_tariff(
    body: TariffBody, session: SessionDep, clock: ClockDep, party: PartyDep
) -> object:
    """An OCPI 2.2.1 Tariff without `id`, `country_code`, `party_id` and `last_updated`:
    evhub assigns them."""
    return await service.create_tariff(session, clock.now(), party, body)


@router.get(
    "/tariffs",
    response_model=list[Tariff],
    dependencies=[VIEWER],
    response_model_exclude_defaults=True,
)
async def list_tariffs(session: SessionDep) -> object:
    return await service.list_tariffs(session)


@router.get(
    "/tariffs/{tariff_id}",
    response_model=Tariff,
    dependencies=[VIEWER],
    response_model_exclude_defaults=True,
)
async def get_tariff(tariff_id: TariffId, session: SessionDep) -> object:
    return await service.get_tariff(session, tariff_id)


@router.put(
    "/tariffs/{tariff_id}",
    response_model=Tariff,
    dependencies=[ADMIN],
    response_model_exclude_defaults=True,
)
async def replace_tariff(
    tariff_id: TariffId, body: TariffBody, session: SessionDep, clock: ClockDep, party: PartyDep
) -> object:
    """Replace the whole tariff (OCPI tariffs are never patched); `last_updated` moves."""
    return await service.replace_tariff(session, clock.now(), party, tariff_id, body)
