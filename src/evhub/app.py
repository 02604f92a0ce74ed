"""The composition root: builds the ASGI application and wires the domains together."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from evhub import __version__
from evhub.accounts.api import router as accounts_router
from evhub.assets import service as assets
from evhub.assets.api import router as assets_router
from evhub.charging.api import router as charging_router
from evhub.clock import Clock, SystemClock
from evhub.db import create_engine, migrate_async, session_factory
from evhub.errors import DomainError
from evhub.events import EventBus
from evhub.ocpp.commands import OcppChargerControl
from evhub.ocpp.context import GatewayContext
from evhub.ocpp.endpoint import ocpp_websocket
from evhub.remote.api import router as remote_router
from evhub.settings import Settings
from evhub.supervisor import Supervisor
from evhub.uow import UnitOfWork
from evhub.web.pages import router as pages_router

log = logging.getLogger("evhub.app")


def create_app(settings: Settings, clock: Clock | None = None, migrate: bool = True) -> FastAPI:
    clock = clock or SystemClock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if migrate:
            await migrate_async(settings.database_url)
        engine = create_engine(settings.database_url)
        bus = EventBus()
        gateway = GatewayContext(
            uow=UnitOfWork(session_factory(engine), bus),
            clock=clock,
            heartbeat_interval_s=settings.heartbeat_interval_s,
            response_timeout_s=settings.ocpp_response_timeout_s,
        )
        app.state.gateway = gateway
        app.state.settings = settings
        app.state.control = OcppChargerControl(gateway.registry)
        app.state.bus = bus
        async with gateway.uow() as session:
            await assets.mark_all_offline(session)
        try:
            async with Supervisor() as supervisor:
                app.state.supervisor = supervisor
                yield
        finally:
            await engine.dispose()

    app = FastAPI(
        title="evhub",
        version=__version__,
        summary="Charging hubs: OCPP supervision, smart charging, reservations, roaming.",
        lifespan=lifespan,
    )
    api = APIRouter(prefix="/api/v1")
    api.include_router(assets_router)
    api.include_router(accounts_router)
    api.include_router(charging_router)
    api.include_router(remote_router)
    app.include_router(api)
    app.include_router(pages_router)
    app.add_api_websocket_route("/ocpp/{station_id}", ocpp_websocket)

    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse({"detail": exc.message, **exc.detail}, status_code=exc.status_code)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, object]:
        return {"status": "ok", "connected_stations": len(app.state.gateway.registry)}

    return app
