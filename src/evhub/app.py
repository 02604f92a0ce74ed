"""The composition root: builds the ASGI application and wires the domains together."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from ocpp import messages as ocpp_messages
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.routing import BaseRoute

from evhub import __version__
from evhub.accounts.api import router as accounts_router
from evhub.accounts.config import AccountConfig
from evhub.accounts.orders_api import router as orders_router
from evhub.accounts.self_api import router as self_service_router
from evhub.assets import service as assets
from evhub.assets.api import router as assets_router
from evhub.assets.credentials import credential_key
from evhub.assets.writer import StationWriter
from evhub.auth import service as auth
from evhub.auth.api import router as auth_router
from evhub.auth.roles import Role
from evhub.auth.signing import server_secret
from evhub.billing import cdrs
from evhub.billing.api import router as billing_router
from evhub.billing.documents_api import router as documents_router
from evhub.billing.driver_api import router as driver_billing_router
from evhub.billing.invoice_run import MonthlyInvoiceRun
from evhub.billing.invoices import issuer_of
from evhub.billing.issuer import CdrIssuer
from evhub.billing.lines import sources as invoice_sources
from evhub.billing.service import Party
from evhub.carsharing.api import router as carsharing_router
from evhub.carsharing.gbfs_api import router as gbfs_router
from evhub.carsharing.service import FleetCharging
from evhub.carsharing.wiring import start_carsharing
from evhub.charging.api import router as charging_router
from evhub.charging.writer import MeterWriter
from evhub.clock import Clock, SystemClock
from evhub.cluster.node import ClusterNode
from evhub.control import ChargerControl
from evhub.db import (
    create_engine,
    create_read_engine,
    is_sqlite,
    migrate_async,
    session_factory,
)
from evhub.errors import DomainError
from evhub.events.log import Doorbell, SqlEventLog
from evhub.events.pruning import Pruner
from evhub.events.relay import Relay, RelayTuning
from evhub.events.tail import OutboxTail
from evhub.feed.api import router as feed_router
from evhub.feed.stream import EventFeed
from evhub.frozen_heap import HeapFreezer
from evhub.mail.sender import MailSender
from evhub.mail.smtp import SmtpMailer
from evhub.maintenance.api import router as maintenance_router
from evhub.maintenance.detectors import BootLoopDetector
from evhub.maintenance.monitor import FaultMonitor
from evhub.maintenance.watchdog import Watchdog, WatchdogPolicy
from evhub.ocpp import library_hot_path, validation
from evhub.ocpp.admission import admission_from
from evhub.ocpp.commands import OcppChargerControl
from evhub.ocpp.context import GatewayContext
from evhub.ocpp.credential_reads import CredentialReads
from evhub.ocpp.endpoint import ocpp_websocket
from evhub.ocpp.registry import ConnectionRegistry
from evhub.openapi import document_errors
from evhub.payments.api import router as payments_router
from evhub.payments.wiring import build_provider, close_provider, start_payments
from evhub.planning.api import router as planning_router
from evhub.planning.driver_v2g_api import router as driver_v2g_router
from evhub.planning.loop import PlanningLoop
from evhub.planning.telemetry_api import router as telemetry_router
from evhub.remote.api import router as remote_router
from evhub.remote.driver_api import router as driver_charging_router
from evhub.reporting.api import router as reporting_router
from evhub.reporting.open_data_api import router as open_data_router
from evhub.reservations.api import router as reservations_router
from evhub.reservations.policy import BookingPolicy
from evhub.reservations.scheduler import ReservationScheduler
from evhub.roaming.api import create_ocpi_app
from evhub.roaming.badges import RoamingBadges
from evhub.roaming.context import RoamingContext
from evhub.roaming.runtime import start_roaming
from evhub.services import Services
from evhub.settings import Settings
from evhub.supervisor import Loop, LoopStarter, Supervisor
from evhub.uow import UnitOfWork
from evhub.web.console import WEB_DIR, LoginRequired, login_required
from evhub.web.pages import router as pages_router

log = logging.getLogger("evhub.app")


def create_app(settings: Settings, clock: Clock | None = None, migrate: bool = True) -> FastAPI:
    clock = clock or SystemClock()
    # Validate OCPP payloads on the event loop: a schema check costs less than the thread hop
    # the library makes for it by default (measured under load: a seventh of the gateway's time).
    ocpp_messages.ASYNC_VALIDATION = False
    validation.install()  # compiled schemas, the library's own errors on refusal
    library_hot_path.install()  # its key renaming and signature lookups, memoized

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if migrate and settings.migrate_on_start:
            await migrate_async(settings.database_url)
        engine = create_engine(settings.database_url)
        read_engine = create_read_engine(settings.database_url)
        registry = ConnectionRegistry()
        local = OcppChargerControl(registry)
        services = _services(settings, clock, engine, session_factory(read_engine or engine), local)
        node = None
        if settings.nats_url:  # several nodes: commands, presence and events across them
            node = await ClusterNode.join(settings, services, registry, local)
            services.control = node.control
            node.use_stream(services)
        app.state.node = node
        gateway = GatewayContext(
            uow=services.uow,
            clock=clock,
            meter_writer=MeterWriter(services.uow),
            station_writer=StationWriter(services.uow),
            credential_reads=CredentialReads(services.read_sessions),
            # Only a configured secret is shared by every node and survives var_dir: a station
            # hash keyed with a per-node secret would lock the station out of the other nodes.
            credential_key=credential_key(settings.secret_key.encode())
            if settings.secret_key
            else None,
            heartbeat_interval_s=settings.heartbeat_interval_s,
            response_timeout_s=settings.ocpp_response_timeout_s,
            registry=registry,
        )
        app.state.services = services
        app.state.gateway = gateway
        app.state.settings = settings
        app.state.control = services.control
        app.state.admission = admission_from(settings)
        app.state.secret = server_secret(settings)
        app.state.account_config = AccountConfig.from_settings(settings, app.state.secret)
        app.state.feed = EventFeed(services.events, settings.feed_keepalive_s)
        if settings.bootstrap_admin_key:
            async with services.uow() as session:
                await auth.ensure_api_key(
                    session, settings.bootstrap_admin_key, "bootstrap", Role.ADMIN, clock.now()
                )
        roaming = RoamingContext.from_settings(settings, services.uow, clock)
        app.state.roaming = ocpi.state.roaming = roaming
        roaming.control = services.control
        roaming.command_timeout_s = settings.roaming_command_timeout_s
        gateway.foreign_tokens = RoamingBadges(roaming)
        async with services.uow() as session:
            if node is None:
                await assets.mark_all_offline(session)
            else:
                await node.presence.mark_absent_offline(session)
        try:
            async with Supervisor() as supervisor:
                app.state.supervisor = supervisor
                once = _once_per_cluster(supervisor, node)
                supervisor.start("charging.meter_writer", gateway.meter_writer.run)
                supervisor.start("assets.station_writer", gateway.station_writer.run)
                supervisor.start("ocpp.credential_reads", gateway.credential_reads.run)
                if settings.gc_freeze_min_stations:
                    freezer = HeapFreezer(gateway.registry, settings.gc_freeze_min_stations)
                    supervisor.start("serving.heap_freezer", freezer.run)
                _add_maintenance(once, services)
                _start_reservations(app, once, services)
                start_carsharing(app, once, settings, services)
                planner = _planner(settings, services, node, app)
                app.state.planner = planner
                services.relay.add(planner.consumer())
                supervisor.start("planning", planner.run)
                party = Party(settings.ocpi_country_code, settings.ocpi_party_id)
                services.relay.add(CdrIssuer(party, clock).consumer())
                _start_invoicing(once, services)
                start_roaming(once, services.relay, roaming, settings, cdrs.ocpi_cdr_of)
                if node is not None:
                    node.start(supervisor, services)
                    supervisor.start("planning.leadership", node.lead_sites(planner, services))
                _add_mail(services)
                start_payments(once, services)
                _start_event_log(supervisor, once, services, node)
                yield
        finally:
            await close_provider(services.payments)
            if node is not None:
                await node.close()
            await app.state.roaming.client.aclose()
            await engine.dispose()
            if read_engine is not None:
                await read_engine.dispose()

    app = FastAPI(
        title="evhub",
        version=__version__,
        summary="Charging hubs: OCPP supervision, smart charging, reservations, roaming.",
        lifespan=lifespan,
    )
    app.router.routes.extend(_domain_routes())
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
    app.router.add_websocket_route("/ocpp/{station_id}", ocpp_websocket)
    ocpi = create_ocpi_app()
    app.mount("/ocpi", ocpi)  # OCPI 2.2.1: its own envelope for every answer, errors included

    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse({"detail": exc.message, **exc.detail}, status_code=exc.status_code)

    app.add_exception_handler(LoginRequired, login_required)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, object]:
        health: dict[str, object] = {
            "status": "ok", "connected_stations": len(app.state.gateway.registry)
        }  # fmt: skip
        node: ClusterNode | None = app.state.node
        if node is not None:
            health |= {"node": node.node_id, "leads": sorted(node.locks.held)}
        return health

    return app


@functools.cache
def _domain_routes() -> tuple[BaseRoute, ...]:
    """The domains' routes, built once per process and shared by its applications.

    Including the routers resolves every parameter of every route into pydantic fields,
    about a second of CPU per application: most of the start of a server, paid again by each
    application of a process (a test suite starts hundreds). The included routers hold no
    state of an application (services come from `request.app.state`), so one set serves all.
    """
    template = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    api = APIRouter(prefix="/api/v1")
    for router in (
        assets_router, accounts_router, charging_router, maintenance_router, feed_router,
        remote_router, reservations_router, planning_router, auth_router, billing_router,
        carsharing_router, reporting_router, self_service_router, orders_router,
        documents_router, payments_router, driver_charging_router, driver_billing_router,
        telemetry_router, driver_v2g_router,
    ):  # fmt: skip
        api.include_router(document_errors(router))
    template.include_router(api)
    template.include_router(pages_router)
    template.include_router(document_errors(gbfs_router))
    template.include_router(document_errors(open_data_router))
    return tuple(template.router.routes)


def _start_invoicing(supervisor: LoopStarter, services: Services) -> None:
    """The monthly invoice run, once the operator's legal identity is configured."""
    settings = services.settings
    try:
        issuer = issuer_of(settings)
    except DomainError as exc:
        log.info("event=invoicing_off cause=%r detail=%s", exc.message, exc.detail)
        return
    run = MonthlyInvoiceRun(services.uow, services.clock, issuer, invoice_sources(settings))
    supervisor.start("billing.invoices", run.run)


def _services(
    settings: Settings,
    clock: Clock,
    engine: AsyncEngine,
    read_sessions: async_sessionmaker[AsyncSession],
    control: ChargerControl,
) -> Services:
    """The shared services, built once per application."""
    sessions = session_factory(engine)
    bell = Doorbell()
    uow = UnitOfWork(sessions, bell)
    sql_log = SqlEventLog(sessions, bell, postgres=not is_sqlite(settings.database_url))
    log_ = OutboxTail(sql_log, settings.event_poll_s)  # read once, shared by every reader
    tuning = RelayTuning(poll_s=settings.event_poll_s, retry_max_s=settings.event_retry_max_s)
    relay = Relay(log_, uow, clock, tuning)
    mailer = SmtpMailer.from_settings(settings)
    provider = build_provider(settings)
    return Services(
        settings, clock, uow, read_sessions, log_, relay, control, mailer, payments=provider
    )


def _add_mail(services: Services) -> None:
    """The sender of the mail outbox, when there is an SMTP server to send to."""
    if services.mailer is None:
        return
    domain = services.settings.smtp_from.rpartition("@")[2].strip(" >") or "evhub.invalid"
    sender = MailSender(services.uow, services.clock, services.mailer, domain)
    services.relay.add(sender.consumer())


class _OncePerCluster:
    """Starts singleton loops: under a cluster-wide lock with several nodes, else as they are."""

    def __init__(self, supervisor: Supervisor, node: ClusterNode | None) -> None:
        self.supervisor, self.node = supervisor, node

    def start(self, name: str, loop: Loop) -> None:
        self.supervisor.start(name, loop if self.node is None else self.node.lead(name, loop))


def _once_per_cluster(supervisor: Supervisor, node: ClusterNode | None) -> LoopStarter:
    return _OncePerCluster(supervisor, node)


def _planner(
    settings: Settings, services: Services, node: ClusterNode | None, app: FastAPI
) -> PlanningLoop:
    """One planner per node; with several nodes each site is planned by its leader only, and
    every node reads the triggers from its own checkpoint."""
    planner = PlanningLoop(
        services.uow, services.control, services.clock, settings.plan_slot_minutes,
        settings.plan_interval_s, settings.plan_time_limit_s, settings.profile_validity_s,
        FleetCharging(app.state.carsharing_policy),
    )  # fmt: skip
    if node is not None:
        planner.leads = node.leads_site
        planner.consumer_name = f"planning.triggers.{node.node_id}"
    return planner


def _start_event_log(
    supervisor: Supervisor, once: LoopStarter, services: Services, node: ClusterNode | None
) -> None:
    """The consumers registered so far, each on its own checkpoint, and the pruner."""
    settings = services.settings
    if isinstance(services.events, OutboxTail):  # with several nodes the stream feeds a tail
        supervisor.start("events.tail", services.events.follow)
    services.relay.start(supervisor, once)
    extra = [] if node is None else list(node.checkpoints())
    pruner = Pruner(
        services.uow,
        lambda: [*services.relay.consumers, *extra],
        timedelta(hours=settings.event_retention_h),
        timedelta(hours=settings.event_max_retention_h),
        settings.event_prune_interval_s,
    )
    once.start("events.pruner", pruner.run)


def _add_maintenance(supervisor: LoopStarter, services: Services) -> None:
    """Fault detection: the monitor consumes the event log, the watchdog runs on a timer."""
    settings = services.settings
    boot_loops = BootLoopDetector(settings.boot_loop_count, settings.boot_loop_window_s)
    services.relay.add(FaultMonitor(services.clock, boot_loops).consumer())
    watchdog = Watchdog(services.uow, services.clock, WatchdogPolicy.from_settings(settings))
    supervisor.start("maintenance.watchdog", watchdog.run)


def _start_reservations(app: FastAPI, supervisor: LoopStarter, services: Services) -> None:
    """Bookings on chargers: ReserveNow at lead time, no-shows, overstays."""
    policy = BookingPolicy.from_settings(services.settings)
    scheduler = ReservationScheduler(services.uow, services.clock, services.control, policy)
    app.state.booking_policy = policy
    app.state.reservations = scheduler
    supervisor.start("reservations.scheduler", scheduler.run)
