"""The OCPI edge, mounted at /ocpi: its own error handling (every answer is an envelope),
request/correlation id echo, and the configuration modules (versions, details, credentials)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from evhub.errors import DomainError, NotFound
from evhub.roaming import credentials
from evhub.roaming.api_charges import router as charges_router
from evhub.roaming.api_commands import router as commands_router
from evhub.roaming.api_cpo import router as cpo_router
from evhub.roaming.api_emsp import router as emsp_router
from evhub.roaming.deps import KnownPartner, RoamingDep, ocpi_base, ok
from evhub.roaming.partners import PartnerStatus, presented_token
from evhub.roaming.registry import VERSION, version_details, versions
from evhub.roaming.schemas import Credentials
from evhub.roaming.wire import OcpiError, OcpiStatus, envelope

config = APIRouter()
log = logging.getLogger("evhub.roaming")


@config.get("/versions")
async def get_versions(request: Request, ctx: RoamingDep, _: KnownPartner) -> JSONResponse:
    """OCPI 2.2.1 §6.1."""
    return ok(ctx, versions(ocpi_base(request, ctx)))


@config.get(f"/{VERSION}")
async def get_version_details(request: Request, ctx: RoamingDep, _: KnownPartner) -> JSONResponse:
    """OCPI 2.2.1 §6.2."""
    return ok(ctx, version_details(ocpi_base(request, ctx)))


@config.get(f"/{VERSION}/credentials")
async def get_credentials(request: Request, ctx: RoamingDep, partner: KnownPartner) -> JSONResponse:
    """§7.2.1: evhub's credentials for this partner; the token is the one it presented, since
    evhub keeps only its hash."""
    token = presented_token(request.headers.get("Authorization"), partner)
    base = ocpi_base(request, ctx)
    return ok(ctx, credentials.our_credentials(ctx.identity, token, f"{base}/versions"))


@config.post(f"/{VERSION}/credentials")
async def post_credentials(
    request: Request, ctx: RoamingDep, partner: KnownPartner, body: Credentials
) -> JSONResponse:
    """§7.2.2: registration with TOKEN_A; 405 when the partner is registered already."""
    token = presented_token(request.headers.get("Authorization"), partner)
    base = ocpi_base(request, ctx)
    data = await credentials.accept(
        ctx, partner, token, body, PartnerStatus.INVITED, f"{base}/versions"
    )
    return ok(ctx, data)


@config.put(f"/{VERSION}/credentials")
async def put_credentials(
    request: Request, ctx: RoamingDep, partner: KnownPartner, body: Credentials
) -> JSONResponse:
    """§7.2.3: re-key; the partner's old token dies, a new one is returned."""
    token = presented_token(request.headers.get("Authorization"), partner)
    base = ocpi_base(request, ctx)
    data = await credentials.accept(
        ctx, partner, token, body, PartnerStatus.REGISTERED, f"{base}/versions"
    )
    return ok(ctx, data)


@config.delete(f"/{VERSION}/credentials")
async def delete_credentials(ctx: RoamingDep, partner: KnownPartner) -> JSONResponse:
    """§7.2.4: unregister."""
    await credentials.unregister(ctx, partner)
    return ok(ctx, None)


def _now(request: Request) -> datetime:
    ctx = getattr(request.app.state, "roaming", None)
    return ctx.clock.now() if ctx is not None else datetime.now(UTC)


def _error(
    request: Request, http: int, status: OcpiStatus, message: str, data: Any = None
) -> JSONResponse:
    return JSONResponse(envelope(data, _now(request), status, message), status_code=http)


def create_ocpi_app() -> FastAPI:
    """The sub-application; `app.state.roaming` is set by the composition root at start-up."""
    ocpi = FastAPI(title="evhub OCPI 2.2.1", openapi_url=None, docs_url=None, redoc_url=None)
    ocpi.include_router(config)
    ocpi.include_router(cpo_router)
    ocpi.include_router(emsp_router)
    ocpi.include_router(commands_router)
    ocpi.include_router(charges_router)

    @ocpi.exception_handler(OcpiError)
    async def ocpi_error(request: Request, exc: OcpiError) -> JSONResponse:
        return _error(request, exc.http_status, exc.status, exc.message)

    @ocpi.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # §5: not JSON at all is HTTP 400; JSON that is not the object is 2001 in the envelope.
        bad_json = any(e.get("type") == "json_invalid" for e in exc.errors())
        detail = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
        return _error(request, 400 if bad_json else 200, OcpiStatus.INVALID_PARAMETERS,
                      "invalid or missing parameters", detail)  # fmt: skip

    @ocpi.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return _error(request, exc.status_code, OcpiStatus.CLIENT_ERROR, str(exc.detail))

    @ocpi.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        http = 404 if isinstance(exc, NotFound) else 200
        return _error(request, http, OcpiStatus.INVALID_PARAMETERS, exc.message)

    @ocpi.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> JSONResponse:
        log.exception("event=ocpi_server_error path=%s", request.url.path)
        return _error(request, 500, OcpiStatus.SERVER_ERROR, "server error")

    @ocpi.middleware("http")
    async def request_ids(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """§4.1.1: X-Request-ID and X-Correlation-ID are echoed (made up when missing)."""
        response = await call_next(request)
        for name in ("X-Request-ID", "X-Correlation-ID"):
            response.headers[name] = request.headers.get(name) or str(uuid.uuid4())
        return response

    return ocpi
